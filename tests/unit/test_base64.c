/* test_base64.c: util/base64.c, the one base64 encoder and decoder (RFC 4648 section 4).
 *
 * The test vectors of RFC 4648 section 10 both ways; the decoder's strictness (length, padding
 * only at the end, the alphabet, the output capacity); and ds_base64_fwrite, which encodes in
 * rounds, against the one-shot encoder on lengths around its round size.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/base64.h"

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (int i = 0; i < 7; i++) {
        char out[16];
        size_t n = strlen(plain[i]);
        assert_int_equal(ds_base64_len(n), strlen(coded[i]));
        assert_int_equal(ds_base64_encode((const uint8_t *)plain[i], n, out), strlen(coded[i]));
        assert_memory_equal(out, coded[i], strlen(coded[i]));
        uint8_t back[16];
        assert_int_equal(ds_base64_decode(coded[i], strlen(coded[i]), back, sizeof back), (long)n);
        assert_memory_equal(back, plain[i], n);
    }
}

static void test_decode_strict(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(ds_base64_decode("Zm9", 3, out, sizeof out), -1);         /* not a multiple of 4 */
    assert_int_equal(ds_base64_decode("Zg==Zg==", 8, out, sizeof out), -1);   /* padding inside */
    assert_int_equal(ds_base64_decode("Z===", 4, out, sizeof out), -1);       /* three pad characters */
    assert_int_equal(ds_base64_decode("Zg=a", 4, out, sizeof out), -1);       /* '=' before a character */
    assert_int_equal(ds_base64_decode("Zm9-", 4, out, sizeof out), -1);       /* URL-safe alphabet: no */
    assert_int_equal(ds_base64_decode("Zm9vYmFy", 8, out, 5), -1);            /* does not fit */
    assert_int_equal(ds_base64_decode("Zm9vYmFy", 8, out, 6), 6);
}

static void test_fwrite_rounds(void **state)
{
    (void)state;
    static const size_t lens[] = { 0, 1, 191, 192, 193, 383, 384, 385, 1000 };
    uint8_t in[1000];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 131 + 7);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        char want[1400], *got = NULL;
        size_t gotlen = 0;
        size_t wl = ds_base64_encode(in, lens[k], want);
        FILE *f = open_memstream(&got, &gotlen);
        assert_non_null(f);
        ds_base64_fwrite(f, in, lens[k]);
        fclose(f);
        assert_int_equal(gotlen, wl);
        assert_memory_equal(got, want, wl);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_decode_strict),
        cmocka_unit_test(test_fwrite_rounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
