/*
 * keydiff.c
 *	  Chunk boundaries of an integer key range and the merge of two sides'
 *	  (key, hash) lists: no libpq, no I/O (unit-tested in
 *	  tests/unit/test_keydiff.c).
 */
#include <stdlib.h>
#include <string.h>

#include "keydiff.h"

const char *
keydiff_problem_name(KeyProblem problem)
{
	switch (problem)
	{
		case KEY_DIFFERS:
			return "differs";
		case KEY_MISSING_ON_TARGET:
			return "missing on target";
		case KEY_EXTRA_ON_TARGET:
			return "extra on target";
	}
	return "?";
}

int
keydiff_split_range(int64_t min, int64_t max, double est_rows,
					int64_t chunk_rows, int max_chunks, int64_t *cuts)
{
	/*
	 * max - min in unsigned arithmetic: the full int64 range does not
	 * overflow
	 */
	uint64_t	span1 = (uint64_t) max - (uint64_t) min;
	double		rows = est_rows > 0 ? est_rows : (double) span1 + 1.0;
	double		want;
	uint64_t	n;
	uint64_t	width;
	uint64_t	off = 0;
	int			nchunks = 1;

	if (max <= min || chunk_rows <= 0 || max_chunks <= 1)
		return 1;
	want = rows / (double) chunk_rows;
	if (want <= 1.0)
		return 1;
	n = want >= (double) max_chunks ? (uint64_t) max_chunks : (uint64_t) want;
	if ((double) n < want && n < (uint64_t) max_chunks)
		n++;					/* ceil */
	if (n > span1)
		n = span1 + 1;			/* no chunk narrower than one key */
	width = span1 / n + 1;
	for (uint64_t i = 1; i < n; i++)
	{
		if (off + width < off || off + width > span1)
			break;				/* past max: the last chunk covers the rest */
		off += width;
		cuts[nchunks - 1] = (int64_t) ((uint64_t) min + off);
		nchunks++;
	}
	return nchunks;
}

static int
keyhash_cmp(const void *a, const void *b)
{
	return strcmp(((const KeyHash *) a)->key, ((const KeyHash *) b)->key);
}

static void
note(KeyDiff *named, int max_named, int *nnamed, const char *key, KeyProblem problem)
{
	if (*nnamed >= max_named)
		return;
	named[*nnamed].key = key;
	named[*nnamed].problem = problem;
	(*nnamed)++;
}

int64_t
keydiff_merge(KeyHash *source, size_t nsource, KeyHash *target, size_t ntarget,
			  KeyDiff *named, int max_named, int *nnamed)
{
	size_t		i = 0,
				j = 0;
	int64_t		differ = 0;

	*nnamed = 0;
	if (nsource > 1)
		qsort(source, nsource, sizeof(KeyHash), keyhash_cmp);
	if (ntarget > 1)
		qsort(target, ntarget, sizeof(KeyHash), keyhash_cmp);
	while (i < nsource || j < ntarget)
	{
		int			c = i >= nsource ? 1 : j >= ntarget ? -1 : strcmp(source[i].key, target[j].key);

		if (c < 0)
		{
			note(named, max_named, nnamed, source[i++].key, KEY_MISSING_ON_TARGET);
			differ++;
		}
		else if (c > 0)
		{
			note(named, max_named, nnamed, target[j++].key, KEY_EXTRA_ON_TARGET);
			differ++;
		}
		else
		{
			if (strcmp(source[i].hash, target[j].hash) != 0)
			{
				note(named, max_named, nnamed, source[i].key, KEY_DIFFERS);
				differ++;
			}
			i++;
			j++;
		}
	}
	return differ;
}
