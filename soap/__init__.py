"""The QBWC SOAP service and the qbXML it speaks."""
