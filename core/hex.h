/*
 * core/hex.h — lower-case hexadecimal, the one spelling of digests, MACs and random ids
 * in the service (hash chains, idempotency and file hashes, webhook signatures).
 */
#ifndef CORE_HEX_H
#define CORE_HEX_H

#include <stddef.h>

/* Writes the 2n lower-case hex digits of b[0..n) and a NUL to out (2n + 1 bytes). */
void core_hex_encode(const unsigned char *b, size_t n, char *out);
/* Reads exactly 2n lower-case hex digits of hex into out[0..n); 0, or -1 when hex is not
 * that (wrong length, another character). */
int core_hex_decode(const char *hex, size_t n, unsigned char *out);

#endif
