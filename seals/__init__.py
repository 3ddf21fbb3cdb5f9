"""Seal registry: kinds, images, lifecycle, authorization; PAdES sealing and verification."""
