/*
 * The checks of the unit tests, one header for all of them.
 *
 *   CHECK(cond)			on failure: file, line and cond
 *   CHECK(cond, fmt, ...)		the same, then the message
 *   CHECK_STR(got, want)		strings equal (got may be NULL)
 *   CHECK_CONTEXT(fmt, ...)		the case at hand, for the messages
 *
 * A failed check counts in check_failures and the test goes on; a test
 * exits non-zero if any failed.  check_context, when set, is printed
 * with each failure (say, the case of an exhaustive loop).  Only the
 * first CHECK_PRINT_MAX failures are printed: exhaustive tests can fail
 * a million times.
 */
#ifndef YAIM_REGRESS_CHECK_H
#define YAIM_REGRESS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CHECK_PRINT_MAX	50

static int	 check_failures;	/* checks that failed */
static int	 check_count;		/* checks run */
static char	 check_context[256];

static void	 check_fail(const char *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5), unused));

/* fmt is " " followed by the caller's format, if any. */
static void
check_fail(const char *file, int line, const char *cond, const char *fmt,
    ...)
{
	va_list	 ap;

	if (check_failures++ >= CHECK_PRINT_MAX)
		return;
	printf("FAIL %s:%d: ", file, line);
	if (check_context[0] != '\0')
		printf("[%s] ", check_context);
	printf("%s", cond);
	if (fmt[1] != '\0') {
		printf(":");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
}

/* The message, if any, is a string literal: " " is glued to it. */
#define CHECK(cond, ...) do {						\
	check_count++;							\
	if (!(cond))							\
		check_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__);	\
} while (0)

#define CHECK_CONTEXT(...)						\
	snprintf(check_context, sizeof(check_context), __VA_ARGS__)

#define CHECK_STR(got, want) do {					\
	const char	*g_ = (got), *w_ = (want);			\
									\
	check_count++;							\
	if (g_ == NULL || strcmp(g_, w_) != 0)				\
		check_fail(__FILE__, __LINE__, #got " == " #want,	\
		    " got \"%s\", want \"%s\"", g_ != NULL ? g_ : "(null)",\
		    w_);						\
} while (0)

#endif
