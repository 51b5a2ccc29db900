/*
 * signals.c
 *	  One handler for SIGINT, SIGTERM and SIGCHLD: a counter, a flag and a
 *	  self-pipe.  See signals.h for who may read what.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "signals.h"

/*
 * Written only by the handler (and by signals_child_exited, which clears
 * its flag); read by everyone else.  Process-wide by nature: there is one
 * set of signal dispositions per process.
 */
static volatile sig_atomic_t interrupts = 0;
static volatile sig_atomic_t child_exited = 0;
static int	wake_pipe[2] = {-1, -1};

static void
on_signal(int signo)
{
	int			saved_errno = errno;

	if (signo == SIGCHLD)
		child_exited = 1;
	else
	{
		interrupts++;
		if (wake_pipe[1] >= 0)
		{
			ssize_t		rc = write(wake_pipe[1], "!", 1);

			(void) rc;			/* a full pipe has woken the loop already */
		}
	}
	errno = saved_errno;
}

bool
signals_install(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	if (wake_pipe[0] >= 0)
		return true;
	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return false;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return true;
}

void
signals_after_fork(void)
{
	if (wake_pipe[0] >= 0)
	{
		close(wake_pipe[0]);
		close(wake_pipe[1]);
	}
	wake_pipe[0] = wake_pipe[1] = -1;
	interrupts = 0;
	child_exited = 0;
}

void
signals_watch_children(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

int
signals_interrupts(void)
{
	return interrupts;
}

volatile sig_atomic_t *
signals_interrupt_flag(void)
{
	return &interrupts;
}

bool
signals_child_exited(void)
{
	bool		exited = child_exited != 0;

	child_exited = 0;
	return exited;
}

int
signals_fd(void)
{
	return wake_pipe[0];
}

void
signals_drain(void)
{
	char		buf[64];

	while (wake_pipe[0] >= 0 && read(wake_pipe[0], buf, sizeof(buf)) > 0)
		;
}
