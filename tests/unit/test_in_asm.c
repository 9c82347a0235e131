/* test_in_asm.c: -d in_asm logs guest code disassembled with Capstone, and a multiboot kernel
 * runs under the real binary until the isa-debug-exit port ends it. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static const size_t max = 1 << 20;
    char *buf = calloc(1, max + 1);
    size_t n = fread(buf, 1, max, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

Test(in_asm, multiboot_kernel_is_logged_and_exits_through_debug_exit)
{
    char dir[] = "/tmp/anyvm-inasm-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char kernel[128], log[128], cmd[1024];
    snprintf(kernel, sizeof(kernel), "%s/mb.bin", dir);
    snprintf(log, sizeof(log), "%s/log.txt", dir);
    /* Multiboot header with address fields at 0x100000, entry at 0x100020:
     *   mov eax, 0x12345678 ; mov dx, 0x501 ; mov al, 3 ; out dx, al ; hlt */
    uint8_t img[64] = {0};
    uint32_t hdr[8] = {0x1BADB002, 0x00010000, 0, 0x100000, 0x100000, 0, 0, 0x100020};
    hdr[2] = (uint32_t)-(hdr[0] + hdr[1]);
    memcpy(img, hdr, sizeof(hdr));
    static const uint8_t code[] = {0xB8, 0x78, 0x56, 0x34, 0x12, 0x66, 0xBA, 0x01, 0x05,
                                   0xB0, 0x03, 0xEE, 0xF4};
    memcpy(img + 0x20, code, sizeof(code));
    FILE *f = fopen(kernel, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(img, 1, sizeof(img), f), sizeof(img));
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "%s/frontend/anyvm -kernel %s -display none -serial null "
             "-device isa-debug-exit,iobase=0x501,iosize=2 -d in_asm -D %s",
             ANYVM_BINARY_DIR, kernel, log);
    int st = system(cmd);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), (3 << 1) | 1, "debug-exit status (3 << 1) | 1, got %d",
                 WEXITSTATUS(st));
    char *text = slurp(log);
    cr_assert(strstr(text, "0010:00100020") != NULL, "entry point logged:\n%s", text);
    cr_assert(strstr(text, "mov eax, 0x12345678") != NULL, "Capstone text:\n%s", text);
    cr_assert(strstr(text, "out dx, al") != NULL, "%s", text);
    free(text);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
