# Shared by the emulated tools (perl): host hardware state under /var/lib/sim-hw, the module
# catalogue of the running kernel, modprobe.d parsing, and PCI driver binding in the fake sysfs.
use strict;
use warnings;

our $HW = '/var/lib/sim-hw';

sub slurp { my ($f) = @_; open(my $fh, '<', $f) or return undef; local $/; my $t = <$fh>; close $fh; return $t; }
sub spew { my ($f, $t) = @_; open(my $fh, '>', $f) or die "$f: $!\n"; print $fh $t; close $fh or die "$f: $!\n"; }
# bind-mounted /proc files keep their inode: rewrite in place
sub spew_inplace { my ($f, $t) = @_; open(my $fh, '+<', $f) or die "$f: $!\n"; truncate($fh, 0); seek($fh, 0, 0); print $fh $t; close $fh; }
sub running_kver { my $k = slurp("$HW/kver") // ''; chomp $k; return $k; }
sub profile_env {
  my %e;
  for (split /\n/, slurp("$HW/profile.env") // '') { next unless /^(\w+)=(.*)$/; my ($k, $v) = ($1, $2); $v =~ s/^'(.*)'$/$1/; $e{$k} = $v; }
  return \%e;
}
sub norm { my ($m) = @_; $m =~ s/-/_/g; return $m; }

# name -> { size, deps => [..], params => { k => default }, path }
sub module_catalog {
  my ($kver) = @_;
  my %cat;
  my $dep = slurp("/lib/modules/$kver/modules.dep") // return undef;
  my %path;
  for (split /\n/, $dep) { my ($p) = split /:/; my $n = $p; $n =~ s{.*/}{}; $n =~ s/\.ko(\.xz)?$//; $path{norm($n)} = $p; }
  for (split /\n/, slurp("/lib/modules/$kver/modules.sim") // '') {
    my ($name, $size, $deps, $params) = split /\t/;
    my %p;
    if ($params ne '-') { for (split /,/, $params) { my ($k, $v) = split /=/, $_, 2; $p{$k} = $v // ''; } }
    $cat{$name} = { size => $size, deps => [$deps eq '-' ? () : split /,/, $deps], params => \%p, path => $path{$name} };
  }
  return \%cat;
}

# /proc/modules as an ordered list of { name, size, holders => [..] } (newest first)
sub loaded_modules {
  my @mods;
  for (split /\n/, slurp("/proc/modules") // '') {
    my ($n, $s, $r, $h) = split / /;
    next unless defined $n;
    push @mods, { name => $n, size => $s, holders => [$h eq '-' ? () : grep { $_ ne '' } split /,/, $h] };
  }
  return \@mods;
}
sub write_modules {
  my ($mods) = @_;
  my $t = '';
  for my $m (@$mods) {
    my @h = @{ $m->{holders} };
    $t .= join(' ', $m->{name}, $m->{size}, scalar(@h), (@h ? join(',', @h) . ',' : '-'), 'Live', '0x0000000000000000') . "\n";
  }
  spew_inplace("/proc/modules", $t);
}

# modprobe configuration: blacklist, install commands, options, aliases
sub modprobe_config {
  my (@dirs) = @_;
  @dirs = ('/etc/modprobe.d', '/run/modprobe.d', '/usr/lib/modprobe.d') unless @dirs;
  my %seen; my @files;
  for my $d (@dirs) { opendir(my $dh, $d) or next; for (sort grep { /\.conf$/ } readdir $dh) { next if $seen{$_}++; push @files, "$d/$_"; } closedir $dh; }
  my %c = (blacklist => {}, install => {}, remove => {}, options => {}, alias => {}, files => \@files);
  for my $f (@files) {
    for my $line (split /\n/, slurp($f) // '') {
      $line =~ s/#.*//; $line =~ s/^\s+|\s+$//g; next if $line eq '';
      my ($kw, $mod, @rest) = split /\s+/, $line;
      next unless defined $mod;
      if ($kw eq 'blacklist') { $c{blacklist}{norm($mod)} = 1 }
      elsif ($kw eq 'install') { $c{install}{norm($mod)} = join(' ', @rest) }
      elsif ($kw eq 'remove') { $c{remove}{norm($mod)} = join(' ', @rest) }
      elsif ($kw eq 'options') { push @{ $c{options}{norm($mod)} }, @rest }
      elsif ($kw eq 'alias') { $c{alias}{norm($mod)} = $rest[0] // '' }
    }
  }
  return \%c;
}

sub cmdline_words { my $c = slurp('/proc/cmdline') // ''; chomp $c; return split /\s+/, $c; }

my %driver_of = (nouveau => 'nouveau', vfio_pci => 'vfio-pci');
sub driver_for_module { return $driver_of{$_[0]}; }

sub pci_devices {
  my @d;
  for (split /\n/, slurp("$HW/pci.tsv") // '') { my @f = split /\t/; push @d, { addr => $f[0], class => $f[1], vendor => $f[4], device => $f[6] }; }
  return @d;
}
sub dev_dir { my ($a) = @_; return '/sys/devices/pci' . substr($a, 0, 4) . ":00/$a"; }
sub bound_driver { my ($a) = @_; my $l = readlink(dev_dir($a) . '/driver'); return undef unless defined $l; $l =~ s{.*/}{}; return $l; }
sub bind_dev {
  my ($a, $drv) = @_;
  my $dir = dev_dir($a);
  symlink("../../../bus/pci/drivers/$drv", "$dir/driver");
  mkdir "/sys/bus/pci/drivers/$drv";
  symlink("../../../../devices/pci" . substr($a, 0, 4) . ":00/$a", "/sys/bus/pci/drivers/$drv/$a");
}
sub unbind_dev {
  my ($a) = @_;
  my $drv = bound_driver($a) // return;
  unlink(dev_dir($a) . '/driver');
  unlink("/sys/bus/pci/drivers/$drv/$a");
}
sub driver_override { my ($a) = @_; my $o = slurp(dev_dir($a) . '/driver_override') // ''; chomp $o; return $o eq '(null)' ? '' : $o; }


# grubenv: ordered [key, value] pairs; the file is a 1024-byte block padded with '#'
our $GRUBENV = '/boot/grub2/grubenv';
sub read_grubenv {
  my ($f) = @_; $f //= $GRUBENV;
  my @pairs;
  for (split /\n/, slurp($f) // '') { next if /^#/ || !/=/; my ($k, $v) = split /=/, $_, 2; push @pairs, [$k, $v]; }
  return \@pairs;
}
sub grubenv_get { my ($pairs, $k) = @_; for (@$pairs) { return $_->[1] if $_->[0] eq $k; } return undef; }
sub grubenv_set { my ($pairs, $k, $v) = @_; for (@$pairs) { if ($_->[0] eq $k) { $_->[1] = $v; return; } } push @$pairs, [$k, $v]; }
sub grubenv_unset { my ($pairs, $k) = @_; @$pairs = grep { $_->[0] ne $k } @$pairs; }
sub write_grubenv {
  my ($pairs, $f) = @_; $f //= $GRUBENV;
  my $t = "# GRUB Environment Block\n" . join('', map { "$_->[0]=$_->[1]\n" } @$pairs);
  { use bytes; return 0 if length($t) > 1024; $t .= '#' x (1024 - length($t)); }
  spew($f, $t);
  return 1;
}

# Boot entries as grubby sees them: BLS snippets (EL8) or grub.cfg menuentries (EL7).
sub vercmp_desc { my ($a, $b) = @_; my @a = split /(\d+)/, $a; my @b = split /(\d+)/, $b;
  while (@a && @b) { my ($x, $y) = (shift @a, shift @b); my $c = ($x =~ /^\d+$/ && $y =~ /^\d+$/) ? $x <=> $y : $x cmp $y; return -$c if $c; } return -(@a <=> @b); }
sub bls_entries {
  my @e;
  for my $f (glob('/boot/loader/entries/*.conf')) {
    my %kv;
    for (split /\n/, slurp($f) // '') { next unless /^(\S+)\s+(.*)$/; $kv{$1} //= $2; }
    (my $id = $f) =~ s{.*/}{}; $id =~ s/\.conf$//;
    push @e, { file => $f, id => $id, title => $kv{title} // $id, version => $kv{version} // $id, linux => $kv{linux} // '', initrd => $kv{initrd}, options => $kv{options} // '' };
  }
  return sort { vercmp_desc($a->{version}, $b->{version}) || vercmp_desc($a->{file}, $b->{file}) } @e;
}
sub legacy_entries {
  my ($cfg) = @_;
  my @lines = split /\n/, $cfg, -1;
  my @e; my $cur;
  for my $i (0 .. $#lines) {
    my $l = $lines[$i];
    if (!$cur && $l =~ /^\s*menuentry\s+(['"])(.*?)\1(.*)\{\s*$/) {
      my ($title, $opts) = ($2, $3);
      my $id = $opts =~ /\$menuentry_id_option\s+(['"])(.*?)\1/ ? $2 : $title;
      $cur = { start => $i, title => $title, id => $id };
    } elsif ($cur && $l =~ /^\s*linux(?:16|efi)?\s+(\S+)\s*(.*)$/) { $cur->{linux} = $1; $cur->{options} = $2; $cur->{linux_line} = $i; }
    elsif ($cur && $l =~ /^\s*initrd(?:16|efi)?\s+(\S+)/) { $cur->{initrd} = $1; }
    elsif ($cur && $l =~ /^\s*\}\s*$/) { $cur->{end} = $i; push @e, $cur; undef $cur; }
  }
  return @e;
}
sub boot_path { my ($p) = @_; return undef unless defined $p; return $p =~ m{^/boot/} ? $p : "/boot$p"; }

1;
