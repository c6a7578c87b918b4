"""moto's CloudFormation as motobox needs it: forced failures (``failures``) and the fixes that
make every read agree with them (``status``)."""
