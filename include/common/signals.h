/*
 * signals.h
 *	  The one interrupt mechanism of the process.
 *
 *	  SIGINT and SIGTERM are counted by a single handler, installed (once,
 *	  signals_install is idempotent) by each engine that stops gracefully
 *	  on them: copy, follow, switchover, migrate.  Commands that do not
 *	  (status --watch, check) keep the default: a signal ends them.  No
 *	  code installs a handler of its own (when migrate composes copy,
 *	  follow and switchover they used to override each other); they ask:
 *	    signals_interrupts()  how many interrupts arrived so far: copy's
 *	                          workers, switchover's steps and migrate's
 *	                          waits poll it (1: stop gracefully, 2: now);
 *	    signals_fd()          a pipe that becomes readable on each interrupt,
 *	                          for follow's libev loop (drain it with
 *	                          signals_drain()).
 *	  On request (signals_watch_children) the handler also remembers SIGCHLD,
 *	  for migrate's follower processes; not by default, since a SIGCHLD
 *	  interrupts poll() and sleeps everywhere else.
 */
#ifndef PGCUTOVER_SIGNALS_H
#define PGCUTOVER_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* Installs the handler (idempotent).  false if the pipe cannot be made. */
bool		signals_install(void);

/*
 * In a forked child (migrate's followers): forgets the parent's self-pipe
 * and counts, so that signals_install makes the child its own.  A shared
 * pipe let another process drain the wake-up a signal meant for this one
 * (a follower went on after migrate's SIGTERM).
 */
void		signals_after_fork(void);

/* Also notes SIGCHLD from now on (see signals_child_exited). */
void		signals_watch_children(void);

/* SIGINT/SIGTERM received since signals_install. */
int			signals_interrupts(void);

/* The counter itself, for code that must poll a flag (subprocess cancel). */
volatile sig_atomic_t *signals_interrupt_flag(void);

/* Whether a SIGCHLD arrived since the last call (clears it). */
bool		signals_child_exited(void);

/* Read end of the self-pipe (-1 before signals_install), and its drain. */
int			signals_fd(void);
void		signals_drain(void);

#endif							/* PGCUTOVER_SIGNALS_H */
