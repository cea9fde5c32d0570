/*
 * The daemon's one clock: monotonic milliseconds (immune to wall-clock
 * jumps, which must not stretch or cut timeouts and leases), and the
 * struct timeval libevent timers take.
 */
#ifndef YAIM_CLOCK_H
#define YAIM_CLOCK_H

#include <sys/time.h>

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t	mono_ms(void);
/* ms as a timeval, for evtimer_add(). */
struct timeval	ms_to_tv(uint64_t ms);

#endif /* YAIM_CLOCK_H */
