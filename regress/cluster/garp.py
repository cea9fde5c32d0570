#!/usr/bin/env python3
"""garp: send gratuitous ARP for an IPv4 address, as a holder would.

Sends COUNT pairs (request form, then reply form) out of IFACE, so the
neighbours of the link (the lab's client) update their caches at once.
Run inside the node's namespace.  Used by the lab to simulate holders
before yaimd announces addresses itself.

usage: garp.py IFACE IPV4 [COUNT]
"""
import socket
import struct
import sys
import time


def frame(mac, ip, op):
    bcast = b"\xff" * 6
    eth = bcast + mac + struct.pack("!H", 0x0806)
    # htype 1, ptype IPv4, hlen 6, plen 4, op; sender = target = ip
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op)
    target_mac = b"\x00" * 6 if op == 1 else bcast
    arp += mac + ip + target_mac + ip
    return eth + arp


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[-1])
    iface, addr = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    ip = socket.inet_aton(addr)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    mac = s.getsockname()[4]
    for i in range(min(count, 10)):
        if i:
            time.sleep(0.05)
        s.send(frame(mac, ip, 1))
        s.send(frame(mac, ip, 2))


if __name__ == "__main__":
    main()
