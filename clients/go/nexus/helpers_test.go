package nexus

import "errors"

func errorsAs(err error, target interface{}) bool { return errors.As(err, target) }
func errorsIs(err, target error) bool             { return errors.Is(err, target) }
