/*
 * preflight_int.h
 *	  What the files of the preflight share, and nobody else (it is on no
 *	  library's include path): the state of one run, the two helpers that
 *	  turn a list of names into a finding, and the checks of each file, which
 *	  preflight_run (preflight.c) calls in the order `check` prints them.
 *
 *	    preflight.c           the run, and the list helpers
 *	    preflight_server.c    the servers, the connections' roles, the slot
 *	    preflight_data.c      the selected tables: filters, keys, values
 *	    preflight_encoding.c  whether the source's text converts to the target's encoding
 *	    preflight_roles.c     the roles the schema and its values need on the target
 */
#ifndef PGCUTOVER_PREFLIGHT_INT_H
#define PGCUTOVER_PREFLIGHT_INT_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "alloc.h"
#include "catalog.h"
#include "options.h"
#include "preflight.h"

/* One run of the checks. */
typedef struct Preflight
{
	PGconn	   *src;
	PGconn	   *tgt;
	const Options *opts;
	Findings   *f;
	TableList	tables;			/* selected source tables */
	bool		src_can_replicate;
} Preflight;

/* preflight.c: a list of names as a finding */
char	   *preflight_name_list(const StrList *names, int max);
bool		preflight_selected_names(Preflight *p, const char *sql, StrList *names);
void		preflight_add_list(Preflight *p, FindingStatus status, const char *check,
							   const char *fix, const StrList *names, int max,
							   const char *fmt,...) __attribute__((format(printf, 7, 8)));

/* preflight_server.c */
void		check_versions(Preflight *p);
void		check_pg_dump(Preflight *p);
void		check_emit_message(Preflight *p);
void		check_same_server(Preflight *p);
void		check_wal_level(Preflight *p);
void		check_capacity(Preflight *p, const char *check, const char *setting,
						   const char *used_sql, const char *what);
void		check_replication_role(Preflight *p);
void		check_wal2json(Preflight *p);
void		check_slot_free(Preflight *p);
void		check_target_create(Preflight *p);
void		check_ddl_capture(Preflight *p);
void		check_fence(Preflight *p);
void		check_extensions(Preflight *p);
void		check_disk(Preflight *p);

/* preflight_data.c */
void		check_filters(Preflight *p);
void		check_select_privilege(Preflight *p);
void		check_replica_identity(Preflight *p);
void		check_float_identity(Preflight *p);
void		check_hash_partition_encoding(Preflight *p);
void		check_ambiguous_reg_values(Preflight *p);
void		check_large_objects(Preflight *p);
void		check_target_empty(Preflight *p);

/* preflight_encoding.c */
void		check_encoding(Preflight *p);

/* preflight_roles.c */
void		check_roles(Preflight *p);
void		check_regrole_values(Preflight *p);

#endif
