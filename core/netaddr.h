/*
 * core/netaddr.h — which IP addresses a webhook may not be delivered to (SSRF, issue 12):
 * addresses of this host, of private and carrier-grade NAT networks, link-local (cloud
 * metadata at 169.254.169.254), unspecified, multicast and reserved ones, IPv4 embedded in
 * IPv6 (mapped, compatible, NAT64) judged as the IPv4 address.
 */
#ifndef CORE_NETADDR_H
#define CORE_NETADDR_H

/* 1 when the address is not a public unicast address; family 4 (addr: 4 bytes, network
 * order) or 6 (16 bytes).  Another family: 1 (refused). */
int core_addr_is_private(int family, const unsigned char *addr);

#endif
