/*
 * verify.h
 *	  Comparing source and target: per table the row count and an
 *	  order-independent checksum (the sum of a 64-bit hash of every row's
 *	  text), computed on both sides at once; per sequence, that the target
 *	  is not behind.  Used by `verify` and by `switchover`.
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
} VerifyResult;

/*
 * Compares every selected table and sequence (and with opts->check_constraints
 * looks for orphans of every foreign key on the target); false on SQL error.
 */
bool		verify_run(PGconn *src, PGconn *tgt, const Options *opts, VerifyResult *out);
void		verify_print(const VerifyResult *r, FILE *out);
json_t	   *verify_json(const VerifyResult *r);
void		verify_free(VerifyResult *r);

#endif
