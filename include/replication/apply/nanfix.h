/*
 * nanfix.h
 *	  Resolving NaN and +-Infinity.  The output plugin prints those
 *	  float/numeric values as JSON null, exactly like SQL NULL.  Rows whose
 *	  float/numeric columns arrived NULL are remembered; before their target
 *	  transaction commits they are re-read on the source by key, and any
 *	  column that is NaN/Infinity there but NULL on the target is set.
 *
 *	  Why this is exact: the re-read sees the row as of now, never older
 *	  than the change.  If the row changed again since, that later change
 *	  is still to be applied and writes every such column itself (again
 *	  resolved this way), so the target converges to the source's value.
 *
 *	  Row classes: NaN and +-Infinity in what finds a row.  When the null
 *	  is in a key column (NOT NULL: it is NaN, Infinity or -Infinity), or
 *	  in a float/numeric column of a REPLICA IDENTITY FULL table without a
 *	  key (NULL too), the change names a class of rows (apply_sql.h), not a
 *	  row, and the target cannot tell which one: a float8 key may hold NaN,
 *	  Infinity and -Infinity at once.  Such a change is not applied as a
 *	  statement; its class is remembered (the old row's, the new row's) and
 *	  before the target transaction commits every remembered class is
 *	  replaced whole: its rows deleted on the target, and the source's rows
 *	  of that class (read now, by the source's own text) inserted.
 *
 *	  The other side of such a change, when exact (a finite key, a full row
 *	  without a float/numeric null), is applied as usual: the old row
 *	  deleted, the new one inserted.
 *
 *	  Why this is exact: classes split a table, and a change that touches a
 *	  class (puts a row in, takes one out, changes one) always has the
 *	  ambiguous null, so it is always handled this way; other changes never
 *	  touch its rows (a TRUNCATE empties every class, on both sides alike).
 *	  The last replacement of a class reads the source
 *	  after the last change to it, so the target ends with the source's
 *	  rows.  Between, a class may be ahead of the rest (as with the re-read
 *	  above); another unique index could then see a transient duplicate and
 *	  stop follow (docs/limitations.md).
 */
#ifndef PGCUTOVER_NANFIX_H
#define PGCUTOVER_NANFIX_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "decoder.h"
#include "tablemeta.h"

typedef struct NanFixer NanFixer;

/* Sends one fixing statement on the target (apply's pipeline). */
typedef bool (*NanFixSendFn) (void *arg, const char *sql, int nparams, const char *const *params);

NanFixer   *nanfix_create(void);
void		nanfix_destroy(NanFixer *nf);

/* Remembers c's row if a float/numeric column of it is NULL; false if t has no key. */
bool		nanfix_remember(NanFixer *nf, TableMeta *t, const Change *c);
int			nanfix_pending(const NanFixer *nf);

/* Forgets everything remembered (the target transaction rolled back). */
void		nanfix_clear(NanFixer *nf);

/*
 * Re-reads the remembered rows on src and sends the fixes through send.
 * Returns false with *errmsg set on a source error.
 */
bool		nanfix_resolve(NanFixer *nf, PGconn *src, NanFixSendFn send, void *arg,
						   int *nfixed, char **errmsg);

/* Inserts one row of a class read on the source (apply's normal INSERT path). */
typedef bool (*NanClassInsertFn) (void *arg, TableMeta *t, const ChangeColumn *cols, int ncols);

/*
 * Remembers the class of row image img of t (by_key: the key's class, else
 * the whole row's), once.
 */
void		nanfix_remember_class(NanFixer *nf, TableMeta *t, const ChangeColumn *img, int n,
								  bool by_key);
int			nanfix_pending_classes(const NanFixer *nf);

/*
 * Replaces every remembered class: DELETE on the target through send, the
 * source's rows of the class through insert.  false with *errmsg on a
 * source error.
 */
bool		nanfix_resolve_classes(NanFixer *nf, PGconn *src, bool target_numeric_infinity,
								   NanFixSendFn send, NanClassInsertFn insert, void *arg,
								   int *nrows, char **errmsg);

#endif
