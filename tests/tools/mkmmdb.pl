#!/usr/bin/perl
# mkmmdb.pl - build small MaxMind DB fixtures for the tests and benchmarks.
#
#   mkmmdb.pl KIND OUT.mmdb [N]
#
# KIND:
#   geoip2-city  GeoIP2-City layout (country.iso_code, country.names.en,
#                city.names.en), IPv6 tree holding v4 and v6
#   flat-city4   DB-IP Lite layout of the ip-location-db packages
#                ("city ipv4": country_code, city; no country name), IPv4 tree
#   flat-city6   the same for IPv6 ("city ipv6")
#   asn          GeoLite2-ASN layout (autonomous_system_number/organization)
#   bench        GeoIP2-City layout with N (default 65536) /24 networks from
#                101.0.0.0 up (101.0.0.0/8 for the default), for timing
#
#   mkmmdb.pl --all DIR   the four test fixtures as DIR/KIND.mmdb
#
# Only documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
# 2001:db8::/32) carry data - plus 10.0.0.0/8, which an address that is
# private must never be looked up in, so a test can see that it was not.
use strict;
use utf8;
use warnings;
use MaxMind::DB::Writer::Tree;


my %types = (
	country => 'map', city => 'map', names => 'map', registered_country => 'map',
	iso_code => 'utf8_string', en => 'utf8_string', de => 'utf8_string',
	geoname_id => 'uint32', country_code => 'utf8_string',
	state1 => 'utf8_string', latitude => 'float', longitude => 'float',
	autonomous_system_number => 'uint32',
	autonomous_system_organization => 'utf8_string',
);
my %flat_types = (%types, city => 'utf8_string');

sub tree {
	my ($type, $ipv, $keys) = @_;
	return MaxMind::DB::Writer::Tree->new(
		ip_version => $ipv,
		record_size => 28,
		database_type => $type,
		languages => ['en'],
		description => { en => "flowtop test fixture ($type)" },
		map_key_type_callback => sub { $keys->{ $_[0] } // die "no type for $_[0]\n" },
		remove_reserved_networks => 0,
	);
}

sub g2 {
	my ($iso, $name, $city) = @_;
	my %r = (country => { iso_code => $iso, names => { en => $name, de => "de:$name" } });
	$r{city} = { names => { en => $city } } if defined $city;
	return \%r;
}

sub build {
my ($kind, $out, $n) = @_;
my $t;
if ($kind eq 'geoip2-city') {
	$t = tree('GeoIP2-City', 6, \%types);
	$t->insert_network('192.0.2.0/24', g2('NO', 'Norway', 'Oslo'));
	$t->insert_network('198.51.100.0/25', g2('DE', 'Germany'));	# no city
	$t->insert_network('2001:db8:1::/48', g2('JP', 'Japan', 'Tōkyō'));
	$t->insert_network('2001:db8:3::/48',	# anycast: only registered_country
		{ registered_country => { iso_code => 'SE', names => { en => 'Sweden' } } });
	$t->insert_network('10.0.0.0/8', g2('US', 'United States', 'Private'));
} elsif ($kind eq 'flat-city4') {
	$t = tree('city ipv4', 4, \%flat_types);
	$t->insert_network('203.0.113.0/24',
		{ country_code => 'FR', city => 'Paris', state1 => 'Ile-de-France' });
	$t->insert_network('198.51.100.128/25', { country_code => 'ZZ', city => '' });
	$t->insert_network('10.0.0.0/8', { country_code => 'US', city => 'Private' });
} elsif ($kind eq 'flat-city6') {
	$t = tree('city ipv6', 6, \%flat_types);
	$t->insert_network('2001:db8:2::/48', { country_code => 'BR', city => 'São Paulo' });
} elsif ($kind eq 'asn') {
	$t = tree('GeoLite2-ASN', 6, \%types);
	$t->insert_network('192.0.2.0/24', { autonomous_system_number => 64496,
		autonomous_system_organization => 'Example "Doc" Net' });
	$t->insert_network('203.0.113.0/24', { autonomous_system_number => 64500,
		autonomous_system_organization => 'Test-Net-3 AS' });
	$t->insert_network('2001:db8::/32', { autonomous_system_number => 64511,
		autonomous_system_organization => 'Doc6 AS' });
	$t->insert_network('10.0.0.0/8', { autonomous_system_number => 64512,
		autonomous_system_organization => 'Private AS' });
} elsif ($kind eq 'bench') {
	my @cc = qw(NO SE DE FR GB US JP BR AU CA IN ZA);
	$n //= 65536;
	$t = tree('GeoIP2-City', 6, \%types);
	for my $i (0 .. $n - 1) {
		my $net = sprintf('%d.%d.%d.0/24', 100 + (($i >> 16) & 0x7f) + 1, ($i >> 8) & 255, $i & 255);
		my $c = $cc[$i % @cc];
		$t->insert_network($net, g2($c, "Country $c", 'City ' . ($i % 1000)));
	}
} else {
	die "mkmmdb.pl: unknown kind '$kind'\n";
}
open(my $fh, '>:raw', $out) or die "mkmmdb.pl: cannot write '$out': $!\n";
$t->write_tree($fh);
close($fh) or die "mkmmdb.pl: cannot write '$out': $!\n";
}

# the tables above are filled before this runs
if (@ARGV == 2 && $ARGV[0] eq '--all') {	# the four test fixtures, one perl start
	my $dir = $ARGV[1];
	build($_, "$dir/$_.mmdb") for qw(geoip2-city flat-city4 flat-city6 asn);
	exit 0;
}
my ($kind, $out, $n) = @ARGV;
die "usage: mkmmdb.pl geoip2-city|flat-city4|flat-city6|asn|bench OUT [N]\n" .
    "       mkmmdb.pl --all DIR   (DIR/geoip2-city.mmdb, flat-city4, flat-city6, asn)\n"
	unless $kind && $out;
build($kind, $out, $n);
exit 0;
