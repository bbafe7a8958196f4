/*
 * nldump.h - the receive buffer size for netlink dumps (ctnetlink's in
 * ctsource.c, sock_diag's in sockmap.c), one definition for both.  Nothing
 * here is owned: each caller allocates its own buffers of this size.
 */
#ifndef FLOWTOP_NLDUMP_H
#define FLOWTOP_NLDUMP_H

/* The kernel fills a dump message batch (one skb) up to the reader's
 * largest recv() size but never past 32 KiB (netlink_recvmsg caps
 * max_recvmsg_len there), so a larger buffer is never filled and a smaller
 * one costs more system calls.  libmnl 1.0.5 calls this
 * MNL_SOCKET_DUMP_SIZE; Debian 12's 1.0.4 does not have it yet. */
#define NLDUMP_BUF 32768

#endif
