module stompede.dev/interop

go 1.26

require github.com/go-stomp/stomp/v3 v3.1.3

require github.com/gmallard/stompngo v1.0.13
