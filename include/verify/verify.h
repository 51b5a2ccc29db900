/*
 * verify.h
 *	  Comparing source and target: per table the row count and an
 *	  order-independent checksum (the sum of a 64-bit hash of every row's
 *	  text), computed on both sides at once, chunk by chunk on several
 *	  session pairs (compare.h), with the keys of the rows that differ; per
 *	  sequence, that the target is not behind.  Used by `verify` and by
 *	  `switchover`.
 */
#ifndef PGCUTOVER_VERIFY_H
#define PGCUTOVER_VERIFY_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "options.h"

typedef struct TableVerdict
{
	char	   *qualname;
	long long	source_rows;
	long long	target_rows;
	char	   *source_sum;
	char	   *target_sum;
	bool		missing;		/* not on the target */
	bool		match;
	int			chunks;			/* statements the table was compared in */
	bool		keyless;		/* no primary key nor replica identity index:
								 * a difference cannot name keys */
	const char *scope;			/* "all rows" or "changed keys" (static) */
	json_t	   *differing_keys; /* [{"key": {col: text}, "problem": ...}], the
								 * first CompareConfig.max_keys_named */
	long long	keys_differing; /* how many keys differ in all (-1: unknown) */
	const char *keys_note;		/* why keys are not named (static), or NULL */
} TableVerdict;

typedef struct VerifyResult
{
	TableVerdict *tables;
	int			ntables;
	int			mismatches;
	int			sequences;
	int			sequences_behind;
	json_t	   *sequence_problems;	/* names of sequences behind on the target */
	int			foreign_keys;	/* checked with --constraints */
	int			foreign_key_violations;
	json_t	   *violations;		/* [{constraint, table, orphans}] */
	double		seconds;
	long long	rows_compared;	/* rows read on the source side */
	int			jobs;			/* session pairs compared on */
} VerifyResult;

/* One worker of the comparison: a session on each side (compare.h). */
typedef struct ComparePair ComparePair;

/*
 * Compares every selected table on the npairs session pairs (all rows,
 * compare_tables), then every sequence, and with opts->check_constraints
 * looks for orphans of every foreign key on the target, both on pairs[0];
 * false on SQL error or interrupt (logged).  The pairs are the caller's:
 * only SELECTs run on them.
 */
bool		verify_run(ComparePair *pairs, int npairs, const Options *opts, VerifyResult *out);
/*
 * Per sequence of the source in the schemas opts selects (all with NULL): is
 * the target's not behind?  Counted into r (sequences, sequences_behind,
 * sequence_problems); false on SQL error.
 */
bool		verify_sequences(PGconn *src, PGconn *tgt, const Options *opts, VerifyResult *r);

void		verify_print(const VerifyResult *r, FILE *out);
json_t	   *verify_json(const VerifyResult *r);
void		verify_free(VerifyResult *r);

#endif
