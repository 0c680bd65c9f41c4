package dev.stompede.interop; class Placeholder {}
