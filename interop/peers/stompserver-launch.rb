#!/usr/bin/ruby
# Starts Debian's stompserver (the Ruby `stompserver` 0.9.9 gem, package `stompserver`) the way
# /usr/bin/stompserver does, with one fix: /usr/bin/stompserver hands the broker state to each
# connection with `@@var = ...` inside instance_eval, which Ruby >= 3.0 rejects ("class variable
# access from toplevel", RuntimeError) on the first connection, so the packaged command cannot
# serve a single client on Debian 12. Here the same class variables are set with
# class_variable_set. Everything else is the packaged server (StompServer::Run and its STOMP
# protocol handler). Options as /usr/bin/stompserver (-p, -b, -q, -w, ...).
require 'etc'
require 'yaml'
require 'daemons/daemonize'
require 'stomp_server'
require 'optparse'

$STOMP_SERVER = true

EventMachine.run do
  config = StompServer::Configurator.new
  stomp = StompServer::Run.new(config.opts)
  stomp.start
  handler = StompServer::Protocols::Stomp
  handler.class_variable_set(:@@auth_required, stomp.auth_required)
  handler.class_variable_set(:@@queue_manager, stomp.queue_manager)
  handler.class_variable_set(:@@topic_manager, stomp.topic_manager)
  handler.class_variable_set(:@@stompauth, stomp.stompauth)
  puts "Stomp protocol handler starting on #{config.opts[:host]} port #{config.opts[:port]}"
  $stdout.flush
  EventMachine.start_server(config.opts[:host], config.opts[:port], handler)
end
