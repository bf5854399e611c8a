# bench/pglog.pm — the statements a PostgreSQL server log recorded with
# log_min_duration_statement=0, for bench scripts that replay deskd's statements in pgbench.
#
#   perl -I"$BENCH_DIR" -Mpglog -e 'for my $s (pglog::statements($ARGV[0])) { ... }' server.log
#
# statements(FILE): in log order, one hash per `execute NAME:` or `statement:` line —
# {pid, name ("" for a simple-protocol statement), sql (continuation lines joined), params
# (the DETAIL "parameters:" text, "" when none)}.  `bind` and `parse` lines are skipped.
# params(TEXT): that text as a hash $n => value (undef for NULL).
# create_script(FILE, UNIT_PREFIX, UNITS, OUT, DEFS, NEED_UNIT): deskd's last request create
# in the log (the unit look-up unit_project, then req_create) as a pgbench script OUT: $N
# become :sKpN variables (their values written to DEFS as "name<TAB>value" lines for -D, so
# pgbench -M prepared sends them as parameters, as deskd does), NULL parameters NULL, and a
# unit id UNIT_PREFIX || 12 digits follows `\set n random(1, UNITS)` as wrk picks it.  Dies
# when the create (or, with NEED_UNIT, the unit look-up) is not in the log.
# stmt_script(FILE, NAME, ID, ID_EXPR, OUT, DEFS, SET): the last `execute NAME` in the log as
# a pgbench script OUT, SET (a `\set` line, or "") first: the parameter whose value is ID
# becomes the SQL expression ID_EXPR, the others :pN variables (DEFS, as above), NULL NULL.
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

sub create_script {
  my ($log, $unit_prefix, $units, $out, $defs, $need_unit) = @_;
  my @stmts = map { [$_->{name}, $_->{sql}, $_->{params}] }
    grep { $_->{name} =~ /^(unit_project|req_create)$/ } statements($log);
  # the last create and the unit look-up before it
  my ($create) = grep { $_->[0] eq "req_create" } reverse @stmts;
  my ($unit) = grep { $_->[0] eq "unit_project" } reverse @stmts;
  die "statements not found in the log\n" unless $create && ($unit || !$need_unit);
  open my $o, ">", $out or die "cannot write $out: $!\n";
  open my $d, ">", $defs or die "cannot write $defs: $!\n";
  print $o "\\set n random(1, $units)\n";
  my ($k, %seen) = (0);
  for my $st (grep { defined } $unit, $create) {
    my ($name, $sql, $params) = @$st;
    my %val = params($params);
    $k++;
    $sql =~ s{\$(\d+)}{
      my $n = $1;
      exists $val{$n} or die "no value for \$$n of $name\n";
      if (!defined $val{$n}) { "NULL" }
      elsif ($val{$n} =~ /^\Q$unit_prefix\E\d{12}$/) { "(\x27$unit_prefix\x27 || lpad((:n)::text, 12, \x270\x27))::uuid" }
      else { print $d "s${k}p$n\t$val{$n}\n" unless $seen{"$k.$n"}++; ":s${k}p$n" }
    }ge;
    print $o "$sql;\n";
  }
  close $o or die;
  close $d or die;
}

sub stmt_script {
  my ($log, $name, $id, $id_expr, $out, $defs, $set) = @_;
  my ($st) = grep { $_->{name} eq $name } reverse statements($log);
  die "$name not found in the log\n" unless $st;
  my %val = params($st->{params});
  my $sql = $st->{sql};
  my $found = 0;
  open my $d, ">", $defs or die "cannot write $defs: $!\n";
  $sql =~ s{\$(\d+)}{
    my $n = $1;
    exists $val{$n} or die "no value for \$$n of $name\n";
    if (!defined $val{$n}) { "NULL" }
    elsif ($val{$n} eq $id) { $found++; $id_expr }
    else { print $d "p$n\t$val{$n}\n"; ":p$n" }
  }ge;
  close $d or die;
  die "$name has no parameter $id\n" unless $found;
  open my $o, ">", $out or die "cannot write $out: $!\n";
  print $o "$set\n" if $set;
  print $o "$sql;\n";
  close $o or die;
}

1;
