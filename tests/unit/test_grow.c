/* test_grow.c: util/grow.h: doubling from a first size, contents kept, overflow refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/grow.h"

static void test_doubles_and_keeps(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0, n = 0;
    for (int i = 0; i < 1000; i++) {
        if (n == cap) {
            size_t before = cap;
            int *g = ds_grow(a, &cap, sizeof *g, 16);
            assert_non_null(g);
            assert_int_equal(cap, before ? before * 2 : 16);
            a = g;
        }
        a[n++] = i;
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(a[i], i);
    free(a);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    size_t cap = SIZE_MAX / 2 + 1;    /* doubling would wrap */
    int dummy;
    assert_null(ds_grow(&dummy, &cap, 1, 16));
    assert_int_equal(cap, SIZE_MAX / 2 + 1);
    cap = SIZE_MAX / 16;              /* doubling fits, the byte count does not */
    assert_null(ds_grow(&dummy, &cap, 64, 16));
    assert_int_equal(cap, SIZE_MAX / 16);
    cap = 0;
    assert_null(ds_grow(NULL, &cap, 0, 16));
    assert_int_equal(cap, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_and_keeps),
        cmocka_unit_test(test_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
