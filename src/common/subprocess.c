/*
 * subprocess.c
 *	  fork/exec with captured output.  Both pipes are drained with poll() so
 *	  a chatty child can never block on a full pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "subprocess.h"

#define ERR_KEEP 8192

/* set by a command whose signal handler must also end the running child */
static volatile sig_atomic_t *cancel_flag = NULL;

void
subprocess_set_cancel(volatile sig_atomic_t *flag)
{
	cancel_flag = flag;
}

/*
 * Runs in the child, which starts with SIGINT and SIGTERM blocked (see the
 * fork in subprocess_run): until exec it still has our handlers, which
 * would take a cancel's SIGTERM for themselves and let the command run on.
 * The default actions first, then the mask lifted: a SIGTERM that came
 * meanwhile ends the child now.
 */
static void
child_exec(char *const argv[], const char *password, int outfd, int errfd)
{
	sigset_t	stop_signals;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (cancel_flag)
		setpgid(0, 0);			/* its own group, so a cancel reaches sh -c's children */
	if (password)
		setenv("PGPASSWORD", password, 1);
	dup2(outfd, STDOUT_FILENO);
	dup2(errfd, STDERR_FILENO);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Appends what fd has to *buf; returns false at EOF. */
static bool
drain(int fd, char **buf, size_t *len, size_t *cap, size_t keep_tail)
{
	char		chunk[65536];
	ssize_t		n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (*len + n + 1 > *cap)
	{
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		if (*buf == NULL)
			abort();
	}
	memcpy(*buf + *len, chunk, n);
	*len += n;
	(*buf)[*len] = '\0';
	if (keep_tail && *len > keep_tail)
	{
		memmove(*buf, *buf + *len - keep_tail, keep_tail);
		*len = keep_tail;
		(*buf)[*len] = '\0';
	}
	return true;
}

bool
subprocess_run(char *const argv[], const char *password, bool capture_stdout,
			   const char *stdout_path, SubprocessOutput *result)
{
	int			outp[2] = {-1, -1};
	int			errp[2];
	int			outfd;
	pid_t		pid;
	size_t		out_cap = 0,
				err_cap = 0,
				err_len = 0;
	int			status;
	sigset_t	stop_signals,
				mask;

	memset(result, 0, sizeof(*result));
	result->exit_code = -1;
	if (pipe(errp) < 0)
		return false;
	if (capture_stdout)
	{
		if (pipe(outp) < 0)
		{
			close(errp[0]);
			close(errp[1]);
			return false;
		}
		outfd = outp[1];
	}
	else
		outfd = open(stdout_path ? stdout_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (outfd < 0)
	{
		close(errp[0]);
		close(errp[1]);
		return false;
	}

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, &mask);
	pid = fork();
	if (pid == 0)
		child_exec(argv, password, outfd, errp[1]);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (pid > 0 && cancel_flag)
		setpgid(pid, pid);
	close(outfd);
	close(errp[1]);
	if (pid < 0)
	{
		close(errp[0]);
		if (capture_stdout)
			close(outp[0]);
		return false;
	}

	{
		struct pollfd fds[2] = {{errp[0], POLLIN, 0}, {outp[0], POLLIN, 0}};
		int			open_fds = capture_stdout ? 2 : 1;
		bool		cancelled = false;

		while (open_fds > 0)
		{
			/*
			 * The flag is looked at before each wait, and the wait is short
			 * while one is set: a signal that came before the child started
			 * (so it interrupts no poll) still ends it at once.
			 */
			if (!(cancel_flag && *cancel_flag && !cancelled) &&
				poll(fds, 2, cancel_flag ? 100 : -1) < 0 && errno != EINTR)
				break;
			if (cancel_flag && *cancel_flag && !cancelled)
			{
				/* SIGINT/SIGTERM: do not wait for a hung --post-command */
				kill(-pid, SIGTERM);
				kill(pid, SIGTERM);
				cancelled = true;
			}
			for (int i = 0; i < 2; i++)
			{
				bool		more;

				if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				more = i == 0 ? drain(fds[i].fd, &result->err, &err_len, &err_cap, ERR_KEEP)
					: drain(fds[i].fd, &result->out, &result->out_len, &out_cap, 0);
				if (!more)
				{
					close(fds[i].fd);
					fds[i].fd = -1;
					open_fds--;
				}
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (result->err == NULL)
		result->err = pg_strdup("");
	if (WIFEXITED(status))
		result->exit_code = WEXITSTATUS(status);
	return result->exit_code == 0;
}

void
subprocess_output_free(SubprocessOutput *result)
{
	free(result->out);
	free(result->err);
	memset(result, 0, sizeof(*result));
}
