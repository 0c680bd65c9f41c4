// The STOMP systems the project was founded to serve (issue 18), each with where the matrix covers
// it or why it cannot here. run.mjs puts this table at the top of MATRIX.md, with the counts of
// each covered system's cells. "Registries" are the ones this machine and CI reach: Debian, npm,
// PyPI, Maven Central, the Go module proxy and crates.io (RubyGems, CPAN, Packagist and download
// sites are not reachable). Each "not available" was looked up in every one of them.

/**
 * @typedef {object} System
 * @property {string} name
 * @property {'server' | 'client'} kind
 * @property {string} language
 * @property {string[]} [rows] matrix clients that are this system
 * @property {string[]} [columns] matrix peers (broker columns) that are this system
 * @property {string} [scenario] a scenario title prefix that covers it too
 * @property {string} [unavailable] why it cannot have a row here: the exact reason
 * @property {string} [pending] in a registry here, but not covered yet: what is missing
 * @property {string} source where the matrix gets it from
 */

/** @type {System[]} */
export const SYSTEMS = [
  {
    name: 'Apache ActiveMQ (Classic)',
    kind: 'server',
    language: 'Java',
    columns: ['activemq', 'activemq6'],
    source: "Debian's activemq 5.17; ActiveMQ 6.3.1 from Maven Central (embedded)",
  },
  {
    name: 'Fuse Message Broker',
    kind: 'server',
    language: 'Java',
    unavailable:
      'Fuse (FuseSource/Red Hat) builds of ActiveMQ were ' +
      'published to the FuseSource and Red Hat Maven repositories, not Maven Central; Debian, ' +
      'npm, PyPI, the Go proxy and crates.io have no Fuse package. The broker it packages is ' +
      'ActiveMQ Classic, which has two columns.',
    source: '-',
  },
  {
    name: 'Open Message Queue (STOMP bridge)',
    kind: 'server',
    language: 'Java',
    columns: ['openmq'],
    source:
      'Maven Central org.glassfish.mq:mq-distribution 6.5.0 (imqbrokerd with its STOMP bridge; ' +
      '6.6 and 6.7 need Java 21); no Debian package',
  },
  {
    name: 'RabbitMQ (STOMP, Web-STOMP)',
    kind: 'server',
    language: 'Erlang',
    columns: ['rabbitmq'],
    source: "Debian's rabbitmq-server 3.10",
  },
  {
    name: "syslog-ng's stomp() destination",
    kind: 'client',
    language: 'C',
    rows: ['syslog-ng'],
    source: "Debian's syslog-ng-mod-stomp 3.38",
  },
  {
    name: 'activemessaging',
    kind: 'client',
    language: 'Ruby',
    unavailable:
      'a RubyGems gem (RubyGems is not reachable); no Debian ' +
      'package (apt-cache search activemessaging: none)',
    source: '-',
  },
  {
    name: 'stomp gem',
    kind: 'client',
    language: 'Ruby',
    rows: ['ruby-stomp'],
    source: "Debian's ruby-stomp 1.4",
  },
  {
    name: 'Apache CMS (ActiveMQ-CPP)',
    kind: 'client',
    language: 'C++',
    unavailable:
      'Debian 12 has no activemq-cpp package (only the Java ' +
      'libactivemq-*); released as source tarballs from Apache, not to Maven Central',
    source: '-',
  },
  {
    name: 'Gozirra',
    kind: 'client',
    language: 'Java',
    rows: ['gozirra', 'gozirra-ws'],
    source:
      'Maven Central com.hi3project.vineyard.comm:gozirra-ws 0.5.0 (2015), a fork of Gozirra ' +
      "that adds STOMP over WebSocket (Java-WebSocket 1.3.0); the original jar was its author's " +
      'download only, in no registry here; no Debian package. Rows: its TCP client and its ' +
      'WebSocket client (STOMP 1.0 only, no ACK frame). The WebSocket client parses one frame ' +
      'per message and reads text messages only, so it runs against ours (one frame per ' +
      'message, text when UTF-8); RabbitMQ as configured here and Artemis send binary messages',
  },
  {
    name: 'Stampy',
    kind: 'client',
    language: 'Java',
    rows: ['stampy'],
    source:
      'Maven Central asia.stampy 1.0-RELEASE (stampy-NETTY-client-server-RI, Netty 3): its ' +
      'client, STOMP 1.2 only. Its server half is no broker column: it is a toolkit of ' +
      'listeners (connect, login, heart-beat, receipt, ack, transaction) with no destinations ' +
      'and no routing of SEND to subscribers, so there is nothing to run the cases against',
  },
  {
    name: 'Stompy',
    kind: 'client',
    language: 'Python',
    rows: ['stompy'],
    source:
      'PyPI stompy 0.2.9 (2010), Python 2 only (on Python 3 its setup.py fails: ' +
      '`except socket.timeout, exc:` is a SyntaxError), and no CPython 2 is in any registry here ' +
      '(Debian 12 has none): it runs on Jython 2.7.4 from Maven Central ' +
      '(org.python:jython-standalone), the sdist fetched from PyPI with its sha256 checked ' +
      '(interop/setup.sh stompy). STOMP 1.0 only (its CONNECT has no accept-version)',
  },
  {
    name: 'pyactivemq',
    kind: 'client',
    language: 'Python',
    unavailable:
      'not on PyPI, no Debian package (it wrapped ActiveMQ-CPP, ' + 'which is not packaged either)',
    source: '-',
  },
  {
    name: 'stomper',
    kind: 'client',
    language: 'Python',
    rows: ['stomper'],
    source: "Debian's python3-stomper 0.4",
  },
  {
    name: 'stompest',
    kind: 'client',
    language: 'Python',
    rows: ['stompest'],
    scenario: 'ours: stompest failover',
    source:
      'PyPI stompest 2.3, its sync client. PyPI stompest.async 2.3.0 (Twisted) has no row: ' +
      'its package is named `async`, a keyword since Python 3.7, and its own modules import it ' +
      'by name (`from stompest.async.client import Stomp` is a SyntaxError on 3.7+, even through ' +
      'importlib); it needs CPython 2.7 or 3.6 or older, and no registry here has one (Debian 12 ' +
      'ships 3.11)',
  },
  {
    name: 'stomp-php',
    kind: 'client',
    language: 'PHP',
    unavailable:
      'a Composer package on Packagist (not reachable); no ' +
      'Debian package (Debian ships the PECL extension, row php-stomp)',
    source: '-',
  },
  {
    name: 'Zend_Queue (STOMP adapter)',
    kind: 'client',
    language: 'PHP',
    unavailable:
      'Zend Framework 1 is on Packagist only (not reachable); ' +
      "Debian's php-zend-* packages are Laminas components without a queue",
    source: '-',
  },
  {
    name: 'PHP stomp extension',
    kind: 'client',
    language: 'PHP (C)',
    rows: ['php-stomp'],
    source: "Debian's php-stomp 2.0",
  },
  {
    name: 'stompngo',
    kind: 'client',
    language: 'Go',
    rows: ['stompngo'],
    source: 'Go module proxy github.com/gmallard/stompngo v1.0.13',
  },
  {
    name: 'AnyEvent::STOMP',
    kind: 'client',
    language: 'Perl',
    unavailable: 'on CPAN only (not reachable); no Debian package',
    source: '-',
  },
  {
    name: 'Net::Stomp',
    kind: 'client',
    language: 'Perl',
    rows: ['net-stomp'],
    source: "Debian's libnet-stomp-perl 0.61",
  },
  {
    name: 'Net::STOMP::Client',
    kind: 'client',
    language: 'Perl',
    unavailable: 'on CPAN only (not reachable); no Debian package',
    source: '-',
  },
  {
    name: 'POE::Component::Client::Stomp',
    kind: 'client',
    language: 'Perl',
    unavailable:
      'the component is on CPAN only (not reachable); Debian ' +
      'ships only its frame filter, POE::Filter::Stomp (libpoe-filter-stomp-perl), not the client',
    source: '-',
  },
  {
    name: "Spring's STOMP support",
    kind: 'client',
    language: 'Java',
    rows: ['spring', 'spring-ws'],
    scenario: 'ours: a Spring Boot application',
    source: 'Maven Central spring-messaging + spring-websocket 6.2 (Spring Boot 3.5.7)',
  },
];
