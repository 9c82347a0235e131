/* test_log.c: -d mask parsing, dev:NAME filters, -D files, log_once and LOG_ONCE per call site. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* A Logger whose output goes to a memory buffer. */
typedef struct Cap {
    Logger lg;
    char *text;
    size_t len;
} Cap;

static void cap_init(Cap *c)
{
    log_init(&c->lg);
    c->text = NULL;
    c->len = 0;
    c->lg.out = open_memstream(&c->text, &c->len);
    cr_assert_not_null(c->lg.out);
}

static const char *cap_text(Cap *c)
{
    fflush(c->lg.out);
    return c->text ? c->text : "";
}

static int cap_lines(Cap *c)
{
    const char *t = cap_text(c);
    int n = 0;
    for (; *t; t++) {
        n += *t == '\n';
    }
    return n;
}

static void cap_fini(Cap *c)
{
    fclose(c->lg.out);
    free(c->text);
}

Test(log, init_disables_everything_and_writes_to_stderr)
{
    Logger lg;
    memset(&lg, 0xa5, sizeof(lg));
    log_init(&lg);
    cr_expect_eq(lg.mask, 0);
    cr_expect_eq(lg.out, stderr);
    cr_expect_eq(lg.n_dev_filters, 0);
    cr_expect_eq(lg.once_count, 0);
    cr_expect_not(log_enabled(&lg, LOG_GUEST_ERROR));
}

Test(log, parse_sets_the_named_bits)
{
    Logger lg;
    log_init(&lg);
    char err[128] = "";
    cr_assert_eq(log_parse_mask(&lg, "in_asm,int,guest_errors", err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(lg.mask, LOG_IN_ASM | LOG_INT | LOG_GUEST_ERROR);
    cr_expect(log_enabled(&lg, LOG_INT));
    cr_expect_not(log_enabled(&lg, LOG_MMU));
    /* a second -d adds to the first */
    cr_assert_eq(log_parse_mask(&lg, "mmu", err, sizeof(err)), 0);
    cr_expect_eq(lg.mask, LOG_IN_ASM | LOG_INT | LOG_GUEST_ERROR | LOG_MMU);
}

Test(log, every_documented_item_parses)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } items[] = {
        {"guest_errors", LOG_GUEST_ERROR},
        {"unimp", LOG_UNIMP},
        {"cpu", LOG_CPU},
        {"in_asm", LOG_IN_ASM},
        {"out_asm", LOG_OUT_ASM},
        {"int", LOG_INT},
        {"mmu", LOG_MMU},
        {"io", LOG_IO},
        {"irq", LOG_IRQ},
        {"jit", LOG_JIT},
        {"stats", LOG_STATS},
        {"jit-stats", LOG_JIT_STATS},
        {"exec", LOG_EXEC},
        {"dev", LOG_DEV},
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        Logger lg;
        log_init(&lg);
        char err[128] = "";
        cr_expect_eq(log_parse_mask(&lg, items[i].name, err, sizeof(err)), 0, "%s: %s",
                     items[i].name, err);
        cr_expect_eq(lg.mask, items[i].bit, "%s", items[i].name);
    }
}

Test(log, unknown_item_is_rejected_with_its_name_and_mask_unchanged)
{
    Logger lg;
    log_init(&lg);
    lg.mask = LOG_CPU;
    char err[128] = "";
    cr_expect_eq(log_parse_mask(&lg, "int,bogus,mmu", err, sizeof(err)), -EINVAL);
    cr_expect_not_null(strstr(err, "bogus"), "%s", err);
    cr_expect_eq(lg.mask, LOG_CPU, "a failed parse must not half-apply");
    cr_expect_eq(log_parse_mask(&lg, "IN_ASM", err, sizeof(err)), -EINVAL, "case matters");
}

Test(log, overlong_list_is_rejected)
{
    Logger lg;
    log_init(&lg);
    char list[400];
    memset(list, 'a', sizeof(list) - 1);
    list[sizeof(list) - 1] = '\0';
    char err[128] = "";
    cr_expect_eq(log_parse_mask(&lg, list, err, sizeof(err)), -EINVAL);
    cr_expect_neq(err[0], '\0');
}

Test(log, empty_items_are_ignored)
{
    Logger lg;
    log_init(&lg);
    char err[128] = "";
    cr_expect_eq(log_parse_mask(&lg, "", err, sizeof(err)), 0);
    cr_expect_eq(lg.mask, 0);
    cr_expect_eq(log_parse_mask(&lg, ",int,,", err, sizeof(err)), 0);
    cr_expect_eq(lg.mask, LOG_INT);
}

Test(log, dev_name_enables_only_that_device)
{
    Logger lg;
    log_init(&lg);
    char err[128] = "";
    cr_assert_eq(log_parse_mask(&lg, "dev:pic,dev:pit", err, sizeof(err)), 0, "%s", err);
    cr_expect(log_enabled(&lg, LOG_DEV));
    cr_expect_eq(lg.n_dev_filters, 2);
    cr_expect(log_dev_enabled(&lg, "pic"));
    cr_expect(log_dev_enabled(&lg, "pit"));
    cr_expect_not(log_dev_enabled(&lg, "rtc"));
    cr_expect_not(log_dev_enabled(&lg, "pi"));
}

Test(log, plain_dev_enables_every_device)
{
    Logger lg;
    log_init(&lg);
    char err[128] = "";
    cr_expect_not(log_dev_enabled(&lg, "pic"), "off by default");
    cr_assert_eq(log_parse_mask(&lg, "dev", err, sizeof(err)), 0);
    cr_expect(log_dev_enabled(&lg, "pic"));
    cr_expect(log_dev_enabled(&lg, "anything"));
    cr_expect_not(log_dev_enabled(NULL, "pic"));
}

Test(log, bad_dev_items_are_rejected)
{
    Logger lg;
    log_init(&lg);
    char err[128] = "";
    cr_expect_eq(log_parse_mask(&lg, "dev:", err, sizeof(err)), -EINVAL);
    cr_expect_not_null(strstr(err, "dev:"), "%s", err);
    char longname[64] = "dev:";
    memset(longname + 4, 'n', 40);
    longname[44] = '\0';
    cr_expect_eq(log_parse_mask(&lg, longname, err, sizeof(err)), -EINVAL);
    char many[256] = "";
    for (int i = 0; i <= LOG_DEV_FILTER_MAX; i++) {
        char item[16];
        snprintf(item, sizeof(item), "%sdev:d%d", i ? "," : "", i);
        strcat(many, item);
    }
    Logger lg2;
    log_init(&lg2);
    cr_expect_eq(log_parse_mask(&lg2, many, err, sizeof(err)), -EINVAL, "too many dev: items");
}

Test(log, msg_prints_only_enabled_areas_and_tolerates_null)
{
    Cap c;
    cap_init(&c);
    c.lg.mask = LOG_IRQ;
    log_msg(&c.lg, LOG_IRQ, "irq %d\n", 5);
    log_msg(&c.lg, LOG_MMU, "mmu %d\n", 6);
    log_msg(NULL, LOG_IRQ, "nothing\n");
    cr_expect_str_eq(cap_text(&c), "irq 5\n");
    cap_fini(&c);
}

Test(log, log_once_prints_a_key_once)
{
    Cap c;
    cap_init(&c);
    c.lg.mask = LOG_UNIMP;
    static const char key_a = 0, key_b = 0;
    cr_expect(log_once(&c.lg, LOG_UNIMP, &key_a, "a %d\n", 1));
    cr_expect_not(log_once(&c.lg, LOG_UNIMP, &key_a, "a %d\n", 2));
    cr_expect(log_once(&c.lg, LOG_UNIMP, &key_b, "b\n"));
    cr_expect_str_eq(cap_text(&c), "a 1\nb\n");
    cap_fini(&c);
}

Test(log, log_once_disabled_area_does_not_use_up_the_key)
{
    Cap c;
    cap_init(&c);
    static const char key = 0;
    cr_expect_not(log_once(&c.lg, LOG_UNIMP, &key, "x\n"));
    c.lg.mask = LOG_UNIMP;
    cr_expect(log_once(&c.lg, LOG_UNIMP, &key, "x\n"), "prints once enabled");
    cr_expect_not(log_once(NULL, LOG_UNIMP, &key, "x\n"));
    cap_fini(&c);
}

Test(log, log_once_set_is_bounded)
{
    Cap c;
    cap_init(&c);
    c.lg.mask = LOG_GUEST_ERROR;
    static const char keys[4 * LOG_ONCE_SLOTS];
    int printed = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4 * LOG_ONCE_SLOTS; i++) {
            printed += log_once(&c.lg, LOG_GUEST_ERROR, &keys[i], "k\n");
        }
    }
    cr_expect_gt(printed, 0);
    cr_expect_leq(printed, LOG_ONCE_SLOTS, "a guest cannot make the log grow without bound");
    cr_expect_eq(cap_lines(&c), printed);
    cap_fini(&c);
}

static void site_a(Logger *lg)
{
    LOG_ONCE(lg, LOG_UNIMP, "site a\n");
}

static void site_b(Logger *lg)
{
    LOG_ONCE(lg, LOG_UNIMP, "site b\n");
}

Test(log, LOG_ONCE_logs_once_per_call_site)
{
    Cap c;
    cap_init(&c);
    c.lg.mask = LOG_UNIMP;
    for (int i = 0; i < 10; i++) {
        site_a(&c.lg);
        site_b(&c.lg);
    }
    cr_expect_str_eq(cap_text(&c), "site a\nsite b\n");
    cap_fini(&c);
}

Test(log, LOG_ONCE_is_per_logger)
{
    Cap c1, c2;
    cap_init(&c1);
    cap_init(&c2);
    c1.lg.mask = c2.lg.mask = LOG_UNIMP;
    site_a(&c1.lg);
    site_a(&c2.lg);
    site_a(&c1.lg);
    cr_expect_str_eq(cap_text(&c1), "site a\n");
    cr_expect_str_eq(cap_text(&c2), "site a\n", "another machine logs its own first time");
    cap_fini(&c1);
    cap_fini(&c2);
}

Test(log, set_file_redirects_output_and_close_restores_stderr)
{
    char path[] = "/tmp/anyvm-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    Logger lg;
    log_init(&lg);
    lg.mask = LOG_CPU;
    cr_assert_eq(log_set_file(&lg, path), 0);
    cr_expect(lg.owns_out);
    log_msg(&lg, LOG_CPU, "hello %s\n", "file");
    log_close(&lg);
    cr_expect_eq(lg.out, stderr);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[64] = "";
    cr_expect_not_null(fgets(line, sizeof(line), f));
    fclose(f);
    cr_expect_str_eq(line, "hello file\n");
    unlink(path);
    cr_expect_eq(log_set_file(&lg, "/nonexistent-dir/x/log"), -ENOENT);
    cr_expect_eq(lg.out, stderr, "a failed -D keeps the old output");
}

Test(log, help_lists_items_and_dev_name)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    log_help(f);
    fclose(f);
    cr_expect_not_null(strstr(text, "in_asm"));
    cr_expect_not_null(strstr(text, "guest_errors"));
    cr_expect_not_null(strstr(text, "dev:NAME"));
    free(text);
}
