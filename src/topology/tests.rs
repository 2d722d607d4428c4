//! Fixture-driven tests of the topology module.
