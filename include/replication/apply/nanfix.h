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

#endif
