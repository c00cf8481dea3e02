/*
 * fuzz_board.c - libFuzzer target: a board's header and rows as an
 * outside reader (the inspector) finds them, fed arbitrary bytes.
 * fb__board_check() must accept only headers whose every offset lies
 * inside the bytes given; after it accepts, reading every scoreboard row
 * (through the seqlock) and every slot word must stay inside them.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fb__geometry g;
	struct fb__board_hdr h;
	struct fb__row_copy rc;
	const struct fb__worker_row *rows;
	const struct fb__slot_row *slots;
	unsigned char *copy;
	volatile uint64_t sum = 0;
	uint64_t word;
	uint32_t i;

	/* A private copy of exactly size bytes (malloc aligns to 16, which
	 * the rows need), so that any read past the end is an ASan report. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (fb__board_check(copy, size, &g) == 0) {
		memcpy(&h, copy, sizeof(h));
		if (h.bh_size > size)
			abort();
		rows = (const void *)(copy + h.bh_workers_off);
		slots = (const void *)(copy + h.bh_slots_off);
		for (i = 0; i < g.g_max_workers; i++)
			if (fb__row_read(&rows[i], &rc) == 0)
				sum += rc.rc_tasks + rc.rc_state;
		for (i = 0; i < g.g_slots; i++) {
			word = atomic_load(&((struct fb__slot_row *)
			    (uintptr_t)&slots[i])->sr_word);
			sum += FB__WORD_STATE(word);
		}
	}
	free(copy);
	return 0;
}
