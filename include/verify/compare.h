/*
 * compare.h
 *	  The table comparison engine: tables (or given keys of tables) compared
 *	  on both sides at once, split into chunks that several session pairs
 *	  work through in parallel, one thread, asynchronous libpq; a chunk that
 *	  differs is narrowed down to the keys that differ.  What it finds is
 *	  appended to a VerifyResult (verify.h).
 */
#ifndef PGCUTOVER_COMPARE_H
#define PGCUTOVER_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "catalog.h"
#include "options.h"
#include "verify.h"

/*
 * One worker: a session on each side.  The caller's: it may have begun a
 * transaction (a REPEATABLE READ one with an imported snapshot); the engine
 * only sends SELECTs on it, never BEGIN, COMMIT or SET.
 */
struct ComparePair
{
	PGconn	   *source;
	PGconn	   *target;
};

typedef struct CompareConfig
{
	int			max_keys_named; /* differing keys named per table */
	double		max_rows_per_second;	/* per side; 0: no limit */
	int64_t		chunk_rows;		/* rows per chunk of an integer-keyed table */
	double		progress_seconds;	/* a progress line this often; 0: never */
} CompareConfig;

/* max_keys_named 10, no throttle, 250000-row chunks, progress every 10 s */
#define COMPARE_CONFIG_DEFAULT {10, 0, 250000, 10}

typedef enum CompareScope
{
	COMPARE_ALL_ROWS,
	COMPARE_KEYS				/* only the rows of the given keys */
} CompareScope;

typedef struct CompareTask
{
	const TableInfo *table;		/* of the source's catalog */
	CompareScope scope;
	json_t	   *keys;			/* COMPARE_KEYS: [{"keycol": "text value",
								 * ...}], borrowed */
} CompareTask;

/* The defaults, with the options' throttle (--max-rate). */
CompareConfig verify_compare_config(const Options *opts);

/*
 * Compares the tasks on the npairs pairs and appends one TableVerdict per
 * task to r (r->tables must have room for ntasks more), counting r's
 * mismatches and rows_compared.  A table missing on the target is a verdict;
 * any other failure, and an interrupt (signals.h), cancels what runs, logs
 * one line and returns false.
 */
bool		compare_tables(ComparePair *pairs, int npairs, const CompareConfig *cfg,
						   const CompareTask *tasks, int ntasks, VerifyResult *r);

/* The most pairs verify and switchover open (--jobs is capped there). */
#define COMPARE_MAX_PAIRS 16

/*
 * Opens n pairs of normal sessions (opts->source, opts->target) into *out
 * (malloc'd); on a connection failure logs the one-line error, closes what
 * was opened and returns false.
 */
bool		compare_pairs_open(const Options *opts, int n, ComparePair **out);
void		compare_pairs_close(ComparePair *pairs, int n);

#endif							/* PGCUTOVER_COMPARE_H */
