/*
 * footprint.c
 *	  What a row change touches on the target, for parallel apply
 *	  (apply_pool.h): its rows by table and key, its table shared or whole,
 *	  or everything.
 *
 *	  Pure: the caller looks the table up (apply_footprint, apply.c).
 *
 *	  Two changes whose footprints do not meet touch no common row, index
 *	  entry or lock, so the sessions applying them never wait for each
 *	  other.  That holds because a key is a row's identity only when
 *
 *	    - the table has no other unique or exclusion index (deferrable ones
 *	      included): a second unique column could make two rows with other
 *	      keys collide, or wait for each other's index entries;
 *	    - its text is canonical: equal keys are printed alike (integers,
 *	      text with a deterministic collation, uuid, ...; not numeric, where
 *	      1.0 = 1.00, nor floats, where NaN is printed as null);
 *	    - the table is written as itself, not through a partition root;
 *	    - no column is float or numeric: a null there may be NaN, and such
 *	      rows are replaced by class (nanfix.h), not by key.
 *
 *	  Otherwise a change takes its table whole.  An INSERT into a table
 *	  with no key, no unique index and no float or numeric column takes it
 *	  shared: appended rows meet no one.  A TRUNCATE takes everything.  Key hashes may collide;
 *	  a collision only orders two changes that needed no order.
 */
#include <string.h>

#include "footprint.h"

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static uint64_t
hash_bytes(uint64_t h, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) data[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* A length, then the bytes: "ab","c" and "a","bc" hash apart. */
static uint64_t
hash_field(uint64_t h, const char *data, size_t len)
{
	uint64_t	n = len;

	h = hash_bytes(h, (const char *) &n, sizeof(n));
	return hash_bytes(h, data, len);
}

/*
 * Hashes the key of a row image: each key column from image, else from
 * fallback (an UPDATE's new row leaves out an unchanged TOASTed value).
 * false if a key value is missing or null.
 */
static bool
hash_key(const TableMeta *t, uint64_t table_hash,
		 const ChangeColumn *image, int nimage,
		 const ChangeColumn *fallback, int nfallback, uint64_t *hash)
{
	uint64_t	h = table_hash;

	for (int k = 0; k < t->nkey; k++)
	{
		const char *name = t->cols[t->key[k]].name;
		const ChangeColumn *col = change_column(image, nimage, name);

		if (col == NULL && fallback)
			col = change_column(fallback, nfallback, name);
		if (col == NULL || col->value == NULL)
			return false;
		h = hash_field(h, col->value, col->value_len);
	}
	*hash = h;
	return true;
}

/* The rows an I, U or D names by key; false: take the table whole. */
static bool
row_footprint(const TableMeta *t, const Change *c, Footprint *fp)
{
	const ChangeColumn *old = c->nidentity > 0 ? c->identity : c->columns;
	int			nold = c->nidentity > 0 ? c->nidentity : c->ncolumns;

	if (!t->key_canonical || t->unique_elsewhere || t->any_ambiguous || t->leaf_qualname)
		return false;
	switch (c->action)
	{
		case CHANGE_INSERT:
			if (!hash_key(t, fp->table, c->columns, c->ncolumns, NULL, 0, &fp->rows[0]))
				return false;
			fp->nrows = 1;
			return true;
		case CHANGE_UPDATE:
			if (!hash_key(t, fp->table, old, nold, NULL, 0, &fp->rows[0]) ||
				!hash_key(t, fp->table, c->columns, c->ncolumns, old, nold, &fp->rows[1]))
				return false;
			fp->nrows = fp->rows[1] == fp->rows[0] ? 1 : 2;
			return true;
		case CHANGE_DELETE:
			if (c->nidentity == 0 ||
				!hash_key(t, fp->table, c->identity, c->nidentity, NULL, 0, &fp->rows[0]))
				return false;
			fp->nrows = 1;
			return true;
		default:
			return false;
	}
}

void
footprint_of(const TableMeta *t, const Change *c, Footprint *fp)
{
	memset(fp, 0, sizeof(*fp));
	if (c->action == CHANGE_TRUNCATE)
	{
		fp->kind = FOOTPRINT_ALL;
		return;
	}
	if (c->action != CHANGE_INSERT && c->action != CHANGE_UPDATE && c->action != CHANGE_DELETE)
		return;					/* FOOTPRINT_NONE */
	if (t->relkind == 'm')
		return;					/* skipped by apply */
	fp->table = hash_field(FNV_OFFSET, t->qualname, strlen(t->qualname));
	if (row_footprint(t, c, fp))
		fp->kind = FOOTPRINT_ROWS;
	else if (c->action == CHANGE_INSERT && t->nkey == 0 && !t->unique_elsewhere &&
			 !t->any_ambiguous && !t->leaf_qualname)
		fp->kind = FOOTPRINT_TABLE_SHARED;
	else
		fp->kind = FOOTPRINT_TABLE;
}
