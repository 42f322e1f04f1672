/* test_atomic_file.c: util/atomic_file.c, the one writer of whole files.
 *
 * What a path names decides how it is written: a regular file is replaced by rename (a new inode,
 * its mode kept), a symbolic link survives and its target is replaced, a FIFO and a character
 * device are written through and stay what they are (issue #21: `report -o /dev/null` as root
 * turned /dev/null into a regular file), and /dev/stdout writes to descriptor 1.  Failures (a directory we may not write, a write cut by
 * RLIMIT_FSIZE, an abort) leave the old file intact and no temporary file behind.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/atomic_file.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ds-afile.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    chmod(dir, 0755);
    umask(022);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *at(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void put(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void assert_contents(const char *path, const char *want)
{
    char got[4096] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    assert_string_equal(got, want);
}

/* no ".NAME.tmp.XXXXXX" or "*.part" left in d */
static void assert_no_temp(const char *d)
{
    DIR *dh = opendir(d);
    assert_non_null(dh);
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (ds_afile_is_temp(e->d_name) || strstr(e->d_name, ".part"))
            fail_msg("temporary file %s/%s left behind", d, e->d_name);
    }
    closedir(dh);
}

static void test_new_file(void **state)
{
    (void)state;
    ds_err err = { 0 };
    assert_int_equal(ds_afile_write_file(at("new.txt"), "hello\n", 6, 0666, 0, &err), DS_OK);
    assert_contents(at("new.txt"), "hello\n");
    struct stat st;
    assert_int_equal(stat(at("new.txt"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);   /* 0666 less the umask 022 */
    assert_no_temp(dir);
}

static void test_regular_replaced_mode_kept(void **state)
{
    (void)state;
    ds_err err = { 0 };
    put(at("r.txt"), "old\n", 0640);
    struct stat before, after;
    assert_int_equal(stat(at("r.txt"), &before), 0);
    assert_int_equal(ds_afile_write_file(at("r.txt"), "new\n", 4, 0666, 0, &err), DS_OK);
    assert_contents(at("r.txt"), "new\n");
    assert_int_equal(stat(at("r.txt"), &after), 0);
    assert_true(S_ISREG(after.st_mode));
    assert_int_equal(after.st_mode & 07777, 0640);
    assert_true(after.st_ino != before.st_ino);   /* renamed over, not rewritten in place */
    assert_no_temp(dir);
    /* EXACT_MODE: the tokens file's 0600 whatever was there */
    assert_int_equal(ds_afile_write_file(at("r.txt"), "x", 1, 0600, DS_AFILE_EXACT_MODE, &err), DS_OK);
    assert_int_equal(stat(at("r.txt"), &after), 0);
    assert_int_equal(after.st_mode & 07777, 0600);
}

static void test_symlink_kept_target_replaced(void **state)
{
    (void)state;
    ds_err err = { 0 };
    char sub[256];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    put(at("sub/target.txt"), "old\n", 0604);
    /* link -> link2 -> sub/target.txt, both relative */
    assert_int_equal(symlink("sub/target.txt", at("link2")), 0);
    assert_int_equal(symlink("link2", at("link")), 0);
    struct stat before, after, l;
    assert_int_equal(stat(at("sub/target.txt"), &before), 0);
    assert_int_equal(ds_afile_write_file(at("link"), "via link\n", 9, 0666, 0, &err), DS_OK);
    assert_int_equal(lstat(at("link"), &l), 0);
    assert_true(S_ISLNK(l.st_mode));
    assert_int_equal(lstat(at("link2"), &l), 0);
    assert_true(S_ISLNK(l.st_mode));
    assert_int_equal(lstat(at("sub/target.txt"), &after), 0);
    assert_true(S_ISREG(after.st_mode));
    assert_int_equal(after.st_mode & 07777, 0604);
    assert_true(after.st_ino != before.st_ino);   /* atomic rename in the target's directory */
    assert_contents(at("sub/target.txt"), "via link\n");
    assert_no_temp(dir);
    assert_no_temp(sub);

    /* a dangling link: its target is created, the link stays */
    assert_int_equal(symlink("sub/made.txt", at("dangling")), 0);
    assert_int_equal(ds_afile_write_file(at("dangling"), "made\n", 5, 0666, 0, &err), DS_OK);
    assert_int_equal(lstat(at("dangling"), &l), 0);
    assert_true(S_ISLNK(l.st_mode));
    assert_contents(at("sub/made.txt"), "made\n");

    /* an absolute link */
    assert_int_equal(symlink(at("sub/target.txt"), at("abs")), 0);
    assert_int_equal(ds_afile_write_file(at("abs"), "abs\n", 4, 0666, 0, &err), DS_OK);
    assert_contents(at("sub/target.txt"), "abs\n");

    /* a loop is an error naming the path, not a hang */
    assert_int_equal(symlink("loop", at("loop")), 0);
    assert_int_equal(ds_afile_write_file(at("loop"), "x", 1, 0666, 0, &err), DS_EIO);
    assert_non_null(strstr(err.msg, "symbolic links"));
    assert_non_null(strstr(err.msg, "loop"));
}

static void test_fifo_written_through(void **state)
{
    (void)state;
    ds_err err = { 0 };
    const char *fifo = at("fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {   /* the reader: copy what comes through the FIFO to the pipe */
        close(pfd[0]);
        int fd = open(fifo, O_RDONLY);
        char b[256];
        ssize_t n;
        while ((n = read(fd, b, sizeof b)) > 0)
            if (write(pfd[1], b, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    assert_int_equal(ds_afile_write_file(fifo, "through the fifo\n", 17, 0666, 0, &err), DS_OK);
    char got[64] = "";
    ssize_t n = read(pfd[0], got, sizeof got - 1);
    assert_int_equal(n, 17);
    close(pfd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(memcmp(got, "through the fifo\n", 17), 0);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_no_temp(dir);
}

static void test_char_device_written_through(void **state)
{
    (void)state;
    ds_err err = { 0 };
    /* a null device of our own where the file system allows one (root, no nodev), else the
     * system's /dev/null itself; either must stay a character device */
    const char *dev = at("null");
    int fd = mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0 ? open(dev, O_WRONLY) : -1;
    if (fd < 0)
        dev = "/dev/null";
    else
        close(fd);
    struct stat before, after;
    assert_int_equal(lstat(dev, &before), 0);
    assert_true(S_ISCHR(before.st_mode));
    assert_int_equal(ds_afile_write_file(dev, "gone\n", 5, 0666, 0, &err), DS_OK);
    assert_int_equal(lstat(dev, &after), 0);
    assert_true(S_ISCHR(after.st_mode));
    assert_int_equal(after.st_rdev, before.st_rdev);
    assert_int_equal(after.st_ino, before.st_ino);
    assert_int_equal(after.st_mode, before.st_mode);
    /* through a symbolic link to it, too */
    assert_int_equal(symlink(dev, at("null-link")), 0);
    assert_int_equal(ds_afile_write_file(at("null-link"), "gone\n", 5, 0666, 0, &err), DS_OK);
    assert_int_equal(lstat(dev, &after), 0);
    assert_true(S_ISCHR(after.st_mode));
    assert_no_temp(dir);
}

/* /dev/stdout leads to /proc/self/fd/1, a procfs magic link whose text ("pipe:[123]") is no
 * path: it is opened and written through, appending, whatever descriptor 1 is. */
static void test_dev_stdout(void **state)
{
    (void)state;
    ds_err err = { 0 };
    if (access("/dev/stdout", F_OK) != 0 || access("/proc/self/fd/1", F_OK) != 0)
        skip();
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    put(at("out.log"), "first\n", 0644);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {   /* stdout a pipe, then a file opened as `>>` opens it */
        close(pfd[0]);
        if (dup2(pfd[1], 1) < 0 || ds_afile_write_file("/dev/stdout", "piped\n", 6, 0666, 0, &err) != DS_OK)
            _exit(1);
        int fd = open(at("out.log"), O_WRONLY | O_APPEND);
        if (fd < 0 || dup2(fd, 1) < 0 || ds_afile_write_file("/dev/stdout", "second\n", 7, 0666, 0, &err) != DS_OK)
            _exit(2);
        _exit(0);
    }
    close(pfd[1]);
    char got[64] = "";
    assert_int_equal(read(pfd[0], got, sizeof got - 1), 6);
    close(pfd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(got, "piped\n");
    assert_contents(at("out.log"), "first\nsecond\n");
    struct stat l;
    assert_int_equal(lstat("/dev/stdout", &l), 0);
    assert_true(S_ISLNK(l.st_mode));
    assert_no_temp(dir);
}

static void test_refused_kinds(void **state)
{
    (void)state;
    ds_err err = { 0 };
    assert_int_equal(ds_afile_write_file(dir, "x", 1, 0666, 0, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_int_equal(ds_afile_write_file(at("nodir/"), "x", 1, 0666, 0, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "names a directory"));
    assert_int_equal(ds_afile_write_file("", "x", 1, 0666, 0, &err), DS_EINVAL);
    assert_int_equal(ds_afile_write_file(at("missing/dir/f"), "x", 1, 0666, 0, &err), DS_EIO);
    assert_non_null(strstr(err.msg, "missing/dir"));

    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", at("sock"));
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(ds_afile_write_file(at("sock"), "x", 1, 0666, 0, &err), DS_EINVAL);
    assert_non_null(strstr(err.msg, "socket"));
    close(s);
    assert_no_temp(dir);
}

static void test_abort_and_api(void **state)
{
    (void)state;
    ds_err err = { 0 };
    ds_afile af;
    put(at("a.txt"), "old\n", 0644);
    assert_int_equal(ds_afile_open(&af, at("a.txt"), 0666, 0, &err), DS_OK);
    assert_int_equal(ds_afile_write(&af, "half", 4, &err), DS_OK);
    ds_afile_abort(&af);
    ds_afile_abort(&af);   /* twice is harmless */
    assert_contents(at("a.txt"), "old\n");
    assert_no_temp(dir);

    /* a stream, for fprintf writers */
    FILE *f = NULL;
    assert_int_equal(ds_afile_open(&af, at("a.txt"), 0666, DS_AFILE_NOSYNC, &err), DS_OK);
    assert_int_equal(ds_afile_stream(&af, &f, &err), DS_OK);
    fprintf(f, "n=%d\n", 42);
    assert_int_equal(ds_afile_commit(&af, &err), DS_OK);
    assert_contents(at("a.txt"), "n=42\n");
    ds_afile_abort(&af);   /* after commit: nothing */

    /* PART: the temporary file has the fixed name PATH.part while it is written */
    assert_int_equal(ds_afile_open(&af, at("p.jsonl"), 0644, DS_AFILE_PART, &err), DS_OK);
    assert_int_equal(ds_afile_write(&af, "{}\n", 3, &err), DS_OK);
    assert_int_equal(access(at("p.jsonl.part"), F_OK), 0);
    assert_int_not_equal(access(at("p.jsonl"), F_OK), 0);
    assert_int_equal(ds_afile_commit(&af, &err), DS_OK);
    assert_contents(at("p.jsonl"), "{}\n");
    assert_no_temp(dir);

    /* a zeroed one is safe to abort */
    ds_afile z;
    memset(&z, 0, sizeof z);
    ds_afile_abort(&z);
}

static void test_is_temp(void **state)
{
    (void)state;
    assert_true(ds_afile_is_temp(".report.html.tmp.aB3xZ9"));
    assert_true(ds_afile_is_temp(".state.tmp.000000"));
    assert_false(ds_afile_is_temp("report.html.tmp.aB3xZ9"));   /* not hidden */
    assert_false(ds_afile_is_temp(".report.html.tmp.aB3x"));    /* too short */
    assert_false(ds_afile_is_temp(".report.html.tmp.aB3x-9"));
    assert_false(ds_afile_is_temp(".tmp.aB3xZ9"));
    assert_false(ds_afile_is_temp("seg-1.meta"));
}

/* In a child (it changes its limits or its user): 0 if the write failed with a clear error
 * and left the old file and no temporary file. */
static int child_failed_cleanly(const char *path, size_t n, const char *want_in_msg)
{
    char *buf = malloc(n);
    if (!buf)
        return 2;
    memset(buf, 'x', n);
    ds_err err = { 0 };
    ds_rc rc = ds_afile_write_file(path, buf, n, 0666, 0, &err);
    free(buf);
    if (rc == DS_OK)
        return 3;
    if (!strstr(err.msg, want_in_msg) || !strstr(err.msg, path)) {
        fprintf(stderr, "unexpected message: %s\n", err.msg);
        return 4;
    }
    return 0;
}

static void test_read_only_directory(void **state)
{
    (void)state;
    char ro[256];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    assert_int_equal(mkdir(ro, 0755), 0);
    put(at("ro/keep.txt"), "old\n", 0644);
    assert_int_equal(chmod(ro, 0555), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* root may write anywhere: become nobody, for whom the directory is read-only */
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(5);
        _exit(child_failed_cleanly(at("ro/keep.txt"), 100, "temporary file"));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_contents(at("ro/keep.txt"), "old\n");
    assert_int_equal(chmod(ro, 0755), 0);
    assert_no_temp(ro);
}

static void test_write_failure(void **state)
{
    (void)state;
    put(at("w.txt"), "old\n", 0644);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* files may not grow past 4 KiB: the write fails with EFBIG half way */
        struct rlimit rl = { 4096, 4096 };
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(5);
        _exit(child_failed_cleanly(at("w.txt"), 1 << 20, "at byte"));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_contents(at("w.txt"), "old\n");
    assert_no_temp(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regular_replaced_mode_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_kept_target_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_written_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_char_device_written_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_stdout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_api, setup, teardown),
        cmocka_unit_test(test_is_temp),
        cmocka_unit_test_setup_teardown(test_read_only_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
