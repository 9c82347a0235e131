/* test_pic.c: the 8259A pair through ports 0x20/0x21, 0xA0/0xA1 and the ELCR, with the CPU's
 * side played by i8259_intr_ack and an INTR recorder. */
#include <criterion/criterion.h>

#include "devices/i8259.h"
#include "tests/devices/chipset_harness.h"

typedef struct PicFixture {
    Machine *m;
    I8259 *pic;
    int intr;
    int intr_changes;
} PicFixture;

static void intr_cb(void *opaque, int level)
{
    PicFixture *f = opaque;
    f->intr = level;
    f->intr_changes++;
}

static void fixture_init(PicFixture *f)
{
    memset(f, 0, sizeof(*f));
    f->m = th_machine();
    f->pic = i8259_new(f->m, intr_cb, f);
    cr_assert_not_null(f->pic);
}

static void fixture_fini(PicFixture *f)
{
    machine_free(f->m);
    i8259_free(f->pic);
}

/* The PC BIOS sequence: edge triggered, cascade on IR2, 8086 mode; vectors 0x08 and 0x70. */
static void pic_init_pc(PicFixture *f, uint8_t icw4_master, uint8_t icw4_slave)
{
    Machine *m = f->m;
    th_outb(m, 0x20, 0x11);
    th_outb(m, 0x21, 0x08);
    th_outb(m, 0x21, 0x04);
    th_outb(m, 0x21, icw4_master);
    th_outb(m, 0xA0, 0x11);
    th_outb(m, 0xA1, 0x70);
    th_outb(m, 0xA1, 0x02);
    th_outb(m, 0xA1, icw4_slave);
}

static void raise(PicFixture *f, int n)
{
    irq_raise(i8259_irq(f->pic, n));
}

static void lower(PicFixture *f, int n)
{
    irq_lower(i8259_irq(f->pic, n));
}

static uint8_t read_isr(PicFixture *f, uint16_t base)
{
    th_outb(f->m, base, 0x0B);
    uint8_t v = th_inb(f->m, base);
    th_outb(f->m, base, 0x0A);
    return v;
}

static uint8_t read_irr(PicFixture *f, uint16_t base)
{
    th_outb(f->m, base, 0x0A);
    return th_inb(f->m, base);
}

static void eoi(PicFixture *f, uint16_t base)
{
    th_outb(f->m, base, 0x20);
}

Test(pic, init_sequence_delivers_vector_base_plus_irq)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    cr_assert_eq(th_inb(f.m, 0x21), 0x00, "ICW1 clears IMR");
    raise(&f, 3);
    cr_assert_eq(f.intr, 1);
    cr_assert_eq(read_irr(&f, 0x20), 0x08);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0B);
    cr_assert_eq(f.intr, 0, "the in-service level holds off INTR");
    cr_assert_eq(read_isr(&f, 0x20), 0x08);
    cr_assert_eq(read_irr(&f, 0x20), 0x00, "INTA consumes an edge request");
    eoi(&f, 0x20);
    cr_assert_eq(read_isr(&f, 0x20), 0x00);
    cr_assert_eq(f.intr, 0, "an edge input held high requests only once");
    fixture_fini(&f);
}

Test(pic, imr_masks_requests_and_reads_back)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    th_outb(f.m, 0x21, 0xEF); /* mask everything but IRQ4 */
    cr_assert_eq(th_inb(f.m, 0x21), 0xEF);
    raise(&f, 5);
    cr_assert_eq(f.intr, 0);
    cr_assert_eq(read_irr(&f, 0x20), 0x20, "a masked request is still in IRR");
    th_outb(f.m, 0x21, 0x00);
    cr_assert_eq(f.intr, 1, "unmasking releases the pending request");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0D);
    fixture_fini(&f);
}

Test(pic, fully_nested_priority_orders_requests)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 4);
    raise(&f, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x09, "IRQ1 beats IRQ4");
    cr_assert_eq(f.intr, 0, "IRQ4 waits while IRQ1 is in service");
    raise(&f, 0);
    cr_assert_eq(f.intr, 1, "IRQ0 preempts IRQ1");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x08);
    cr_assert_eq(read_isr(&f, 0x20), 0x03);
    eoi(&f, 0x20); /* non-specific: clears IRQ0, the highest in service */
    cr_assert_eq(read_isr(&f, 0x20), 0x02);
    cr_assert_eq(f.intr, 0);
    eoi(&f, 0x20);
    cr_assert_eq(f.intr, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0C);
    fixture_fini(&f);
}

Test(pic, specific_eoi_clears_only_named_level)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 6);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0E);
    raise(&f, 3);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0B);
    th_outb(f.m, 0x20, 0x66); /* specific EOI for IR6 */
    cr_assert_eq(read_isr(&f, 0x20), 0x08);
    fixture_fini(&f);
}

Test(pic, rotate_on_nonspecific_eoi_makes_serviced_level_lowest)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x09);
    th_outb(f.m, 0x20, 0xA0); /* rotate on non-specific EOI */
    lower(&f, 1);
    /* Now IR2 is highest and IR1 lowest: with IR0 and IR5 pending, IR5 goes first. */
    raise(&f, 0);
    raise(&f, 5);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0D);
    th_outb(f.m, 0x20, 0x20);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x08);
    fixture_fini(&f);
}

Test(pic, set_priority_command_picks_lowest_level)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    th_outb(f.m, 0x20, 0xC4); /* IR4 lowest, IR5 highest */
    raise(&f, 3);
    raise(&f, 6);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0E, "IR6 ranks above IR3 after set priority");
    th_outb(f.m, 0x20, 0xE6); /* rotate on specific EOI 6: IR7 highest */
    cr_assert_eq(read_isr(&f, 0x20), 0x00);
    raise(&f, 7);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0F, "IR7 is now the highest");
    cr_assert_eq(read_isr(&f, 0x20), 0x80, "a real IR7 sets ISR, unlike a spurious one");
    fixture_fini(&f);
}

Test(pic, auto_eoi_leaves_isr_clear)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x03, 0x01);
    raise(&f, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x09);
    cr_assert_eq(read_isr(&f, 0x20), 0x00);
    raise(&f, 6);
    cr_assert_eq(f.intr, 1, "a lower level is accepted at once without EOI");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0E);
    fixture_fini(&f);
}

Test(pic, rotate_in_auto_eoi_mode)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x03, 0x01);
    th_outb(f.m, 0x20, 0x80); /* set rotate in AEOI */
    raise(&f, 0);
    raise(&f, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x08);
    lower(&f, 0);
    raise(&f, 0);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x09, "IR0 became the lowest after its AEOI");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x08);
    fixture_fini(&f);
}

Test(pic, spurious_irq7_when_level_request_goes_away)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    th_outb(f.m, 0x4D0, 0x20); /* IRQ5 level triggered */
    cr_assert_eq(th_inb(f.m, 0x4D0), 0x20);
    raise(&f, 5);
    cr_assert_eq(f.intr, 1);
    lower(&f, 5);
    cr_assert_eq(f.intr, 0, "a level request ends with its line");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0F, "INTA without a request gives IR7");
    cr_assert_eq(read_isr(&f, 0x20), 0x00, "a spurious IR7 sets no ISR bit");
    fixture_fini(&f);
}

Test(pic, spurious_irq7_when_request_masked_before_inta)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 3);
    cr_assert_eq(f.intr, 1);
    th_outb(f.m, 0x21, 0x08);
    cr_assert_eq(f.intr, 0);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0F);
    cr_assert_eq(read_isr(&f, 0x20), 0x00);
    fixture_fini(&f);
}

Test(pic, level_triggered_input_requests_again_after_eoi)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    th_outb(f.m, 0x4D1, 0x08); /* IRQ11 level triggered */
    raise(&f, 11);
    cr_assert_eq(f.intr, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x73);
    cr_assert_eq(f.intr, 0);
    eoi(&f, 0xA0);
    eoi(&f, 0x20);
    cr_assert_eq(f.intr, 1, "the line is still high: it requests again");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x73);
    lower(&f, 11);
    eoi(&f, 0xA0);
    eoi(&f, 0x20);
    cr_assert_eq(f.intr, 0);
    fixture_fini(&f);
}

Test(pic, elcr_cannot_make_timer_keyboard_cascade_level)
{
    PicFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x4D0, 0xFF);
    th_outb(f.m, 0x4D1, 0xFF);
    cr_assert_eq(th_inb(f.m, 0x4D0), 0xF8);
    cr_assert_eq(th_inb(f.m, 0x4D1), 0xDE);
    fixture_fini(&f);
}

Test(pic, cascade_delivers_slave_vector_and_sets_both_isr)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 12);
    cr_assert_eq(f.intr, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x74);
    cr_assert_eq(read_isr(&f, 0x20), 0x04);
    cr_assert_eq(read_isr(&f, 0xA0), 0x10);
    raise(&f, 8);
    cr_assert_eq(f.intr, 0, "without SFNM the master's IR2 in service blocks the slave");
    eoi(&f, 0xA0);
    eoi(&f, 0x20);
    cr_assert_eq(f.intr, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x70);
    fixture_fini(&f);
}

Test(pic, spurious_irq15_sets_master_isr_for_cascade)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 10);
    cr_assert_eq(f.intr, 1);
    th_outb(f.m, 0xA1, 0x04); /* the slave's request goes away; the master latched its edge */
    cr_assert_eq(i8259_intr_ack(f.pic), 0x77);
    cr_assert_eq(read_isr(&f, 0xA0), 0x00, "the slave sets no ISR bit");
    cr_assert_eq(read_isr(&f, 0x20), 0x04, "the master's IR2 is in service");
    fixture_fini(&f);
}

Test(pic, second_slave_request_after_first_ack_reaches_cpu)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x11); /* slave ICW4 ignored SFNM; master normal */
    raise(&f, 9);
    raise(&f, 14);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x71);
    eoi(&f, 0xA0);
    eoi(&f, 0x20);
    cr_assert_eq(f.intr, 1, "IRQ14 is still pending on the slave");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x76);
    fixture_fini(&f);
}

Test(pic, special_fully_nested_lets_higher_slave_request_through)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x11, 0x01);
    raise(&f, 12);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x74);
    raise(&f, 13);
    cr_assert_eq(f.intr, 0, "the slave itself holds off a lower level");
    raise(&f, 9);
    cr_assert_eq(f.intr, 1, "SFNM: a higher slave level passes the in-service IR2");
    cr_assert_eq(i8259_intr_ack(f.pic), 0x71);
    fixture_fini(&f);
}

Test(pic, special_mask_mode_enables_lower_levels)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x09);
    raise(&f, 5);
    cr_assert_eq(f.intr, 0);
    th_outb(f.m, 0x21, 0x02); /* mask IR1 */
    cr_assert_eq(f.intr, 0, "masking alone does not lift the in-service level");
    th_outb(f.m, 0x20, 0x68); /* OCW3: set special mask mode */
    cr_assert_eq(f.intr, 1);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x0D);
    th_outb(f.m, 0x20, 0x48); /* reset special mask mode */
    cr_assert_eq(read_isr(&f, 0x20), 0x22);
    fixture_fini(&f);
}

Test(pic, poll_command_acknowledges_highest_request)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    raise(&f, 6);
    raise(&f, 4);
    th_outb(f.m, 0x20, 0x0C);
    cr_assert_eq(th_inb(f.m, 0x20), 0x84);
    cr_assert_eq(read_isr(&f, 0x20), 0x10);
    th_outb(f.m, 0x20, 0x0C);
    cr_assert_eq(th_inb(f.m, 0x20), 0x00, "IR6 is below the in-service IR4");
    cr_assert_eq(th_inb(f.m, 0x21), 0x00, "the poll lasts one read");
    fixture_fini(&f);
}

Test(pic, icw1_without_icw4_and_single_mode_skips_words)
{
    PicFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x20, 0x13); /* single, ICW4 needed */
    th_outb(f.m, 0x21, 0x20); /* ICW2 */
    th_outb(f.m, 0x21, 0x01); /* ICW4 (no ICW3 in single mode) */
    th_outb(f.m, 0x21, 0xFB); /* OCW1 */
    cr_assert_eq(th_inb(f.m, 0x21), 0xFB);
    raise(&f, 2);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x22, "single mode: IR2 is an ordinary input");
    fixture_fini(&f);
}

Test(pic, snapshot_round_trip_restores_registers)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    th_outb(f.m, 0x21, 0x5A);
    raise(&f, 0);
    cr_assert_eq(i8259_intr_ack(f.pic), 0x08);
    uint8_t *buf = NULL;
    size_t len = 0;
    cr_assert_eq(vmstate_save_buf(&f.m->vmstate, &buf, &len), 0);
    th_outb(f.m, 0x21, 0x00);
    eoi(&f, 0x20);
    char err[128];
    cr_assert_eq(vmstate_load_buf(&f.m->vmstate, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(th_inb(f.m, 0x21), 0x5A);
    cr_assert_eq(read_isr(&f, 0x20), 0x01);
    fixture_fini(&f);
}

Test(pic, machine_reset_clears_controller)
{
    PicFixture f;
    fixture_init(&f);
    pic_init_pc(&f, 0x01, 0x01);
    th_outb(f.m, 0x21, 0x33);
    machine_reset(f.m);
    cr_assert_eq(th_inb(f.m, 0x21), 0x00);
    cr_assert_eq(read_isr(&f, 0x20), 0x00);
    fixture_fini(&f);
}
