/* SPDX-License-Identifier: MIT */
/*
 * pg_spaces: 16 address spaces (page directories) mapping the same linear
 * addresses to different frames: data at DATA and code at CODE. CR3 moves
 * between them in a loop, in order and scrambled, and each space must see
 * its own data and run its own code. The page tables of a space that is
 * not active are then changed (a PTE, the code in its frame, a PDE); on
 * the switch to it the new mapping and code must be seen, since a CR3
 * load flushes every non-global translation.
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define SPACES 16
#define ROUNDS 64
#define DATA   0x40000000u
#define CODE   0x40001000u
#define PWU    (PTE_P | PTE_W | PTE_U)

static uint32_t *pd[SPACES];
static uint32_t *data[SPACES], *code[SPACES];

/* "mov eax, value; ret" at the start of a code frame. */
static void code_write(uint32_t *frame, uint32_t value)
{
    volatile uint8_t *p = (volatile uint8_t *)frame;

    p[0] = 0xB8; /* mov eax, imm32 */
    p[1] = (uint8_t)value;
    p[2] = (uint8_t)(value >> 8);
    p[3] = (uint8_t)(value >> 16);
    p[4] = (uint8_t)(value >> 24);
    p[5] = 0xC3; /* ret */
}

static uint32_t data_read(void)
{
    return *(volatile uint32_t *)DATA;
}

static uint32_t code_run(void)
{
    return ((uint32_t(*)(void))CODE)();
}

static void test_switching(void)
{
    unsigned data_bad = 0, code_bad = 0, write_bad = 0;

    for (unsigned r = 0; r < ROUNDS; r++) {
        for (unsigned k = 0; k < SPACES; k++) {
            /* Rounds alternate in order and scrambled (7 is odd, so
             * k * 7 mod 16 visits every space). */
            unsigned i = (r & 1) ? (k * 7 + r) % SPACES : k;
            cr3_write((uint32_t)pd[i]);
            data_bad += data_read() != 0xDA7A0000u + i;
            code_bad += code_run() != 0xC0DE0000u + i;
            *(volatile uint32_t *)(DATA + 4) = r * SPACES + i;
        }
        for (unsigned i = 0; i < SPACES; i++) /* each once per round */
            write_bad += data[i][1] != r * SPACES + i;
    }
    check_eq("each_space_reads_its_data", 0, data_bad);
    check_eq("each_space_runs_its_code", 0, code_bad);
    check_eq("each_space_writes_its_frame", 0, write_bad);
}

static void test_inactive_changes(void)
{
    uint32_t *other = pg_alloc(), *table = pg_alloc();

    other[0] = 0x07E4;
    cr3_write((uint32_t)pd[5]);
    data_read();
    code_run();
    cr3_write((uint32_t)pd[0]);

    *pg_pte(pd[5], DATA) = (uint32_t)other | PWU;
    code_write(code[5], 0x5EC0DE);
    cr3_write((uint32_t)pd[5]);
    check_eq("inactive_pte_change_seen", 0x07E4, data_read());
    check_eq("inactive_code_change_seen", 0x5EC0DE, code_run());

    cr3_write((uint32_t)pd[0]);
    table[0] = (uint32_t)data[9] | PWU;
    table[1] = (uint32_t)code[5] | PWU;
    *pg_pde(pd[7], DATA) = (uint32_t)table | PWU;
    cr3_write((uint32_t)pd[7]);
    check_eq("inactive_pde_change_data", 0xDA7A0009u, data_read());
    check_eq("inactive_pde_change_code", 0x5EC0DE, code_run());
    cr3_write((uint32_t)pd[0]);
    check_eq("space0_unchanged", 0xDA7A0000u, data_read());
    check_eq("space0_code_unchanged", 0xC0DE0000u, code_run());
}

void test_main(void)
{
    for (unsigned i = 0; i < SPACES; i++) {
        pd[i] = pg_dir_new();
        data[i] = pg_alloc();
        code[i] = pg_alloc();
        data[i][0] = 0xDA7A0000u + i;
        code_write(code[i], 0xC0DE0000u + i);
        pg_map(pd[i], DATA, (uint32_t)data[i], PWU);
        pg_map(pd[i], CODE, (uint32_t)code[i], PWU);
    }
    pg_enable(pd[0]);
    test_switching();
    test_inactive_changes();
    pg_disable();
}
