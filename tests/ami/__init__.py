"""AMI transport tests and the Asterisk AMI stand-in (importable: ``tests.ami.standin``)."""
