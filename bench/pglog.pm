# bench/pglog.pm — the statements a PostgreSQL server log recorded with
# log_min_duration_statement=0, for bench scripts that replay deskd's statements in pgbench.
#
#   perl -I"$BENCH_DIR" -Mpglog -e 'for my $s (pglog::statements($ARGV[0])) { ... }' server.log
#
# statements(FILE): in log order, one hash per `execute NAME:` or `statement:` line —
# {pid, name ("" for a simple-protocol statement), sql (continuation lines joined), params
# (the DETAIL "parameters:" text, "" when none)}.  `bind` and `parse` lines are skipped.
# params(TEXT): that text as a hash $n => value (undef for NULL).
package pglog;
use strict;
use warnings;

sub statements {
  my ($file) = @_;
  open my $fh, "<", $file or die "cannot read $file: $!\n";
  my @lines = <$fh>;
  my @out;
  for (my $i = 0; $i < @lines; $i++) {
    next unless $lines[$i] =~ /\[(\d+)\] LOG:  duration: [\d.]+ ms  (?:execute ([^:]+)|statement): (.*)$/;
    my ($pid, $name, $sql) = ($1, $2 // "", $3);
    my $j = $i + 1;
    while ($j < @lines && $lines[$j] =~ /^\t/) { $sql .= " " . substr($lines[$j], 1); $j++ }
    chomp $sql;
    my $params = "";
    for (; $j < @lines; $j++) {
      if ($lines[$j] =~ /DETAIL:  parameters: (.*)$/) { $params = $1; last }
      last if $lines[$j] =~ /LOG:  /;
    }
    push @out, {pid => $pid, name => $name, sql => $sql, params => $params};
  }
  return @out;
}

sub params {
  my ($text) = @_;
  my %val;
  while ($text =~ /\$(\d+) = (NULL|'((?:[^']|'')*)')/g) {
    my ($n, $raw, $quoted) = ($1, $2, $3); # before s///r resets the captures
    $val{$n} = $raw eq "NULL" ? undef : $quoted =~ s/''/'/gr;
  }
  return %val;
}

1;
