"""Reservation profile (OCTT 1.6 section 3.17): ReserveNow and CancelReservation, TC_046 to TC_053."""
