/*
 * keytrack.c
 *	  After an online verification at LSN L (verify --online), apply records
 *	  the key of every row it changes, so that switchover compares only those
 *	  rows (the incremental verify).  The keys of a group are collected here
 *	  and sent with the group's commit (verification.h), so they are durable
 *	  exactly when the rows are.  Memory is bounded by the group; the target
 *	  table dedupes.  A table whose changes cannot be told by key (no key, a
 *	  TRUNCATE, a key that is not valid text, more than KEYTRACK_MAX_KEYS
 *	  keys) is recorded once as a table to compare whole instead.
 *
 *	  A key is the JSON object {"column": "text value"} of the target's key
 *	  columns (tablemeta.h), as the decoder gave them: what the type's input
 *	  function reads back.
 */
#include <string.h>

#include <jansson.h>

#include "apply_int.h"
#include "verification.h"

#define KEYTRACK_MAX_KEYS 100000	/* per table: beyond, compare it whole */

/*
 * The key of one tuple of c (the new one, or the old key), appended to the
 * group's array; false if the tuple lacks a key column or a value is not
 * valid UTF-8 (the caller then compares the table whole).
 */
static bool
append_key(Apply *a, TableMeta *t, const ChangeColumn *cols, int ncols)
{
	json_t	   *key = json_object();
	json_t	   *triple;
	char	   *text;
	bool		ok = true;

	for (int i = 0; i < t->nkey && ok; i++)
	{
		const ColumnMeta *col = &t->cols[t->key[i]];
		const ChangeColumn *v = change_column(cols, ncols, col->name);
		json_t	   *value;

		if (v == NULL)
			ok = false;
		else if (v->value == NULL)
			ok = json_object_set_new(key, col->name, json_null()) == 0;
		else if ((value = json_stringn(v->value, v->value_len)) == NULL)
			ok = false;
		else
			ok = json_object_set_new(key, col->name, value) == 0;
	}
	if (!ok)
	{
		json_decref(key);
		return false;
	}
	triple = json_pack("[s, s, o]", t->schema, t->table, key);
	text = json_dumps(triple, JSON_COMPACT);
	strbuf_append(&a->track.keys, a->track.nkeys == 0 ? "[" : ",");
	strbuf_append(&a->track.keys, text);
	a->track.nkeys++;
	t->tracked_keys++;
	free(text);
	json_decref(triple);
	return true;
}

bool
keytrack_note_whole(Apply *a, TableMeta *t, const char *reason)
{
	if (a->track.verification_id == 0 || t->tracked_whole)
		return true;
	t->tracked_whole = true;
	if (!verification_send_changed_table(a->tgt, a->track.verification_id, t->schema, t->table, reason))
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	apply_push_pending(a, -1, "recording a changed table", t->qualname);
	return true;
}

bool
keytrack_note_row(Apply *a, TableMeta *t, const Change *c)
{
	bool		ok = true;

	if (a->track.verification_id == 0 || t->tracked_whole)
		return true;
	if (t->nkey == 0)
		return keytrack_note_whole(a, t, "no key");
	if (t->tracked_keys >= KEYTRACK_MAX_KEYS)
		return keytrack_note_whole(a, t, "more than 100000 changed keys");
	/* the old key of an UPDATE that moved it, and of a DELETE */
	if (c->action != CHANGE_INSERT && c->nidentity > 0)
		ok = append_key(a, t, c->identity, c->nidentity);
	if (ok && c->action != CHANGE_DELETE)
		ok = append_key(a, t, c->columns, c->ncolumns);
	return ok || keytrack_note_whole(a, t, "a key that is not valid text");
}

bool
keytrack_send(Apply *a)
{
	bool		sent;

	if (a->track.nkeys == 0)
		return true;
	strbuf_append(&a->track.keys, "]");
	sent = verification_send_keys(a->tgt, a->track.verification_id, a->track.keys.data);
	keytrack_discard(a);
	if (!sent)
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	apply_push_pending(a, -1, "recording the changed keys", NULL);
	return true;
}

void
keytrack_discard(Apply *a)
{
	strbuf_reset(&a->track.keys);
	a->track.nkeys = 0;
}

void
apply_track_keys(Apply *a, int64_t verification_id)
{
	if (a->track.verification_id != verification_id)
		tablecache_forget_tracking(a->tables);
	keytrack_discard(a);
	a->track.verification_id = verification_id;
}
