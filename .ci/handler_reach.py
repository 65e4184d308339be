#!/usr/bin/env python3
"""Lists every function the compiled signal handler can reach, and fails if one lies outside
signal context (sigchan::sigctx, sigchan::sys) and the two named exceptions.

Usage: .ci/handler_reach.py BINARY   (an x86_64 release build that links sigchan)

It disassembles BINARY with objdump, starts at sigchan::sigctx::handler::entry and follows
every direct call and jump into another function, every call through the GOT (resolved with
the dynamic relocations and the symbol table), and notes indirect calls through a register
(the chained pre-sigchan handler). Inlined code is part of its caller, so what the source
calls but the compiler inlined shows up as the caller's own instructions; tests/layering.rs
checks the source side.
"""
import re
import subprocess
import sys

ENTRY = "sigchan::sigctx::handler::entry"
ALLOWED_PREFIXES = ("sigchan::sigctx::", "sigchan::sys::")
# Named exceptions, each with why it is safe.
EXCEPTIONS = {
    "__errno_location": "glibc's initial-exec TLS address of errno: no allocation, no lock",
    "core::panicking::panic_cannot_unwind": "the compiler's abort guard on an extern \"C\" fn: "
    "reached only if a chained foreign handler unwinds, and then it aborts",
}


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def main(binary):
    disasm = run("objdump", "-d", "--no-show-raw-insn", "-C", binary)
    relocs = run("objdump", "-R", binary)
    symbols = run("nm", "-C", "-n", binary)

    got = {}
    for line in relocs.splitlines():
        m = re.match(r"([0-9a-f]+) (\S+)\s+(.+)$", line.strip())
        if not m:
            continue
        addr, kind, value = int(m.group(1), 16), m.group(2), m.group(3).strip()
        if kind.endswith("GLOB_DAT") or kind.endswith("JUMP_SLOT"):
            got[addr] = value.split("@")[0]
        elif kind.endswith("RELATIVE"):
            target = re.search(r"\+0x([0-9a-f]+)", value)
            if target:
                got[addr] = int(target.group(1), 16)

    by_addr = []
    for line in symbols.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] and parts[1] in ("t", "T", "w", "W"):
            by_addr.append((int(parts[0], 16), parts[2]))

    def name_at(addr):
        best = None
        for a, n in by_addr:
            if a <= addr:
                best = n
            else:
                break
        return best

    funcs = {}
    current = None
    for line in disasm.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            current = m.group(1)
            funcs[current] = []
        elif current is not None and line.strip():
            funcs[current].append(line)

    def strip_hash(n):
        return re.sub(r"::h[0-9a-f]{16}$", "", n)

    if ENTRY not in funcs:
        sys.exit(f"{ENTRY} not found in {binary}")
    seen, todo, indirect, syscalls, parent = {ENTRY}, [ENTRY], set(), 0, {}
    while todo:
        f = todo.pop()
        if strip_hash(f) in EXCEPTIONS:
            continue  # a leaf: where it leads is what the exception's reason covers
        for ins in funcs.get(f, []):
            if re.search(r"\tsyscall\b", ins):
                syscalls += 1
            m = re.search(r"\t(call|jmp)\s+[0-9a-f]+ <(.+?)(\+0x[0-9a-f]+)?>$", ins)
            if m:
                target = m.group(2)
                if target != f and target not in seen:
                    seen.add(target)
                    parent[target] = f
                    todo.append(target)
                continue
            m = re.search(r"\t(call|jmp)\s+\*0x[0-9a-f]+\(%rip\)\s+# ([0-9a-f]+)", ins)
            if m:
                slot = got.get(int(m.group(2), 16))
                target = name_at(slot) if isinstance(slot, int) else slot
                target = target or f"GOT slot {m.group(2)}"
                if target not in seen:
                    seen.add(target)
                    parent[target] = f
                    todo.append(target)
                continue
            if re.search(r"\tcall\s+\*%", ins):
                indirect.add(f)

    bad = []
    print(f"reachable from {ENTRY} ({syscalls} syscall instructions):")
    for n in sorted(seen, key=strip_hash):
        short = strip_hash(n)
        if short.startswith(ALLOWED_PREFIXES):
            note = ""
        elif short in EXCEPTIONS:
            note = f"  [exception: {EXCEPTIONS[short]}]"
        else:
            note = f"  [OUTSIDE SIGNAL CONTEXT, from {strip_hash(parent.get(n, '?'))}]"
            bad.append(short)
        print(f"  {short}{note}")
    for f in sorted(indirect):
        print(f"  indirect call in {strip_hash(f)}: the handler installed before sigchan")
    if bad:
        sys.exit(f"the handler reaches code outside signal context: {', '.join(bad)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
