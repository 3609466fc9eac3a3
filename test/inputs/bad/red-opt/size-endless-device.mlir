// A device that never ends as the input; expects error: input '/dev/zero' is larger than 1 GiB
// ARGS: /dev/zero -o {out}
