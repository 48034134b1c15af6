#!/usr/bin/perl
# The simulated rack's namespace keeper. Started as `unshare -m --propagation private perl simns.pl`
# by the rack (Node), it performs every mount of every host in ONE process (a mount(8) exec per
# mount would cost ~4 ms each, 10 per host) and forks one chrooted `sleep` per host in its own UTS
# namespace: `nsenter -t <that pid> -m -u -r` is then a host's shell. All mounts live in this
# private namespace only; they vanish with it when this process and its children are gone.
# Protocol: one command per line on stdin, tab-separated; answers on stdout.
use strict;
use warnings;
use POSIX ();
require 'syscall.ph';

my $MS_RDONLY = 1; my $MS_NOSUID = 2; my $MS_NODEV = 4; my $MS_REMOUNT = 32;
my $MS_BIND = 4096; my $MS_REC = 16384;
my $CLONE_NEWUTS = 0x04000000;
my $PR_SET_PDEATHSIG = 1;

$| = 1;
# Die with the rack: a crashed Node must not leave hosts behind.
syscall(&SYS_prctl, $PR_SET_PDEATHSIG, 9, 0, 0, 0);
my %children;

sub sysmount {
  my ($src, $dst, $type, $flags, $data) = @_;
  my $r = defined $data
    ? syscall(&SYS_mount, $src, $dst, $type, 0 + $flags, $data)
    : syscall(&SYS_mount, $src, $dst, $type, 0 + $flags, 0);
  return $r == 0 ? undef : "$!";
}

sub mkpath {
  my ($p) = @_;
  my $acc = '';
  for my $part (split m{/}, $p) {
    next if $part eq '';
    $acc .= "/$part";
    mkdir $acc unless -d $acc;
  }
}

while (my $line = <STDIN>) {
  chomp $line;
  my @a = split /\t/, $line;
  my $cmd = shift @a;
  my $err;
  if ($cmd eq 'bind') {
    my ($src, $dst, $ro) = @a;
    $err = sysmount($src, $dst, 'none', $MS_BIND);
    $err //= sysmount('none', $dst, 'none', $MS_REMOUNT | $MS_BIND | $MS_RDONLY) if $ro;
  } elsif ($cmd eq 'rbind') {
    $err = sysmount($a[0], $a[1], 'none', $MS_BIND | $MS_REC);
  } elsif ($cmd eq 'proc') {
    $err = sysmount('proc', $a[0], 'proc', $MS_NOSUID | $MS_NODEV);
  } elsif ($cmd eq 'tmpfs') {
    $err = sysmount('tmpfs', $a[0], 'tmpfs', 0, $a[1] // 'mode=755');
  } elsif ($cmd eq 'overlay') {
    my ($lower, $upper, $work, $dst) = @a;
    my $opts = defined $upper && $upper ne '' ? "lowerdir=$lower,upperdir=$upper,workdir=$work" : "lowerdir=$lower";
    $err = sysmount('overlay', $dst, 'overlay', 0, $opts);
  } elsif ($cmd eq 'umount') {
    $err = syscall(&SYS_umount2, $a[0], 2) == 0 ? undef : "$!";
  } elsif ($cmd eq 'mkdir') {
    mkpath($a[0]);
  } elsif ($cmd eq 'host') {
    my ($name, $root) = @a;
    # The pid is reported only once the child has chrooted and exec'd (the pipe's write end is
    # close-on-exec, so EOF means exec happened): the rack reads /proc/<pid>/root and
    # /proc/<pid>/ns/uts right away, and before the chroot they would still be the keeper's.
    my ($ready_r, $ready_w);
    if (!pipe($ready_r, $ready_w)) { print "err\t$line\tpipe: $!\n"; next }
    my $pid = fork();
    if (!defined $pid) { $err = "fork: $!"; }
    elsif ($pid == 0) {
      close $ready_r;
      my $fail = sub { print $ready_w "$_[0]: $!"; close $ready_w; POSIX::_exit(1) };
      syscall(&SYS_prctl, $PR_SET_PDEATHSIG, 9, 0, 0, 0);
      syscall(&SYS_unshare, $CLONE_NEWUTS) == 0 or $fail->('unshare');
      syscall(&SYS_sethostname, $name, length $name) == 0 or $fail->('sethostname');
      chroot($root) or $fail->("chroot $root");
      chdir('/');
      open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null');
      exec('/usr/bin/sleep', 'infinity') or $fail->('exec');
    } else {
      close $ready_w;
      my $msg = do { local $/; <$ready_r> } // '';
      close $ready_r;
      if ($msg ne '') {
        waitpid($pid, 0);
        $err = "host $name: $msg";
      } else {
        $children{$pid} = 1;
        print "pid\t$name\t$pid\n";
        next;
      }
    }
  } elsif ($cmd eq 'sync') {
    print "ok\t", ($a[0] // ''), "\n";
    next;
  } else {
    $err = "unknown command";
  }
  print "err\t$line\t$err\n" if defined $err;
}
kill 'KILL', keys %children;
waitpid($_, 0) for keys %children;
