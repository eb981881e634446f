package dev.tresor.mesh.topology;

/** Transport protocols NetworkPolicy and EgressFirewall can name. */
public enum Protocol { TCP, UDP, SCTP }
