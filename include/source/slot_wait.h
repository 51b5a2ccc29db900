/*
 * slot_wait.h
 *	  What a logical slot creation waits for.  CREATE_REPLICATION_SLOT ...
 *	  LOGICAL (and pg_create_logical_replication_slot) cannot return before
 *	  every transaction that holds an xid when it starts has ended, in every
 *	  database of the server, prepared transactions included: the snapshot
 *	  builder waits for the xids of a running-xacts record, and once more for
 *	  those still running when it saw the first ones end.  It says nothing
 *	  meanwhile.  The creating backend waits on the transactionid lock of one
 *	  xid at a time, so pg_blocking_pids() of it names the session it waits
 *	  on now; the other sessions holding an xid may be next.  A transaction
 *	  without an xid (read-only so far) does not hold it up, whatever its
 *	  snapshot's age.
 *
 *	  copy's slot (snapshot.c) and check's test slot (preflight.c) use this
 *	  to say which sessions those are and how to end them; pgcutover never
 *	  ends them itself.
 */
#ifndef PGCUTOVER_SLOT_WAIT_H
#define PGCUTOVER_SLOT_WAIT_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "strbuf.h"

/*
 * Appends to *what the sessions holding an xid (the one waiter_pid waits on
 * first: pid, user, application, database, state, how long the transaction
 * has been open, xid age, its query truncated to 60 characters, or hidden
 * when it may hold a password) and the prepared transactions, "; "
 * separated, and to *fix the statements that would end them.  conn is
 * another session on the same server.  Returns how many it found.
 */
int			slot_wait_describe(PGconn *conn, int waiter_pid, StrBuf *what, StrBuf *fix);

/* Whether backend pid waits on a transaction (a transactionid lock). */
bool		slot_wait_is_waiting(PGconn *conn, int pid);

#endif
