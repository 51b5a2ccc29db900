/*
 * keydedup.c
 *	  keep_last_per_key: an open-addressing set of the keys seen, walked
 *	  from the last row back, so the last change of each key wins.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "keydedup.h"

int
keep_last_per_key(int *rows, int n, KeyHashFn hash, KeyEqualFn equal, void *arg)
{
	int			size = 16;
	int		   *slots;			/* row + 1 per used slot, 0 when free */
	int			kept = 0;

	if (n <= 0)
		return 0;
	while (size < 2 * n)
		size *= 2;
	slots = pg_malloc0(sizeof(int) * size);
	for (int i = n - 1; i >= 0; i--)
	{
		unsigned	h = hash(arg, rows[i]) & (unsigned) (size - 1);
		bool		seen = false;

		while (slots[h] != 0 && !seen)
		{
			seen = equal(arg, rows[i], slots[h] - 1);
			h = (h + 1) & (unsigned) (size - 1);
		}
		if (!seen)
		{
			slots[h] = rows[i] + 1;
			rows[n - 1 - kept++] = rows[i];	/* compacts towards the end */
		}
	}
	memmove(rows, rows + n - kept, sizeof(int) * kept);
	free(slots);
	return kept;
}
