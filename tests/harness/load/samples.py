"""Locust CSV output as the load tests read it: statistics, history and failures."""

from __future__ import annotations

STATS_CSV = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,\
90%,95%,98%,99%,99.9%,99.99%,100%
POST,E2 start,10,1,8,19,1,48,200,2.0,0.2,8,42,44,45,47,49,49,49,49,49,49
GET,E3 status,90,0,5,15,1,53,300,18.0,0.0,5,8,43,44,48,120,52,53,54,54,54
FLOW,background: end-to-end (target ms),9,0,166000,165629,83328,340445,0,1.8,0,166000,1,1,1,1,\
340000,1,1,1,1,1
,Aggregated,109,1,5,5047,0,340445,0,21.8,0.2,5,10,44,45,49,2500,1,1,1,1,1
"""

HISTORY_CSV = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,\
99%,99.9%,99.99%,100%,Total Request Count
100,2,POST,E2 start,2.0,0.5,8,0,0,0,0,40,0,0,0,0,0,5
100,2,GET,E3 status,10.0,0,5,0,0,0,0,30,0,0,0,0,0,50
100,2,FLOW,background: polls per flow (count),1.0,0,20,0,0,0,0,30,0,0,0,0,0,3
100,2,,Aggregated,13.0,0.5,5,0,0,0,0,2500,0,0,0,0,0,58
101,3,GET,E3 status,12.0,0,6,0,0,0,0,35,0,0,0,0,0,62
101,3,,Aggregated,12.0,0,6,0,0,0,0,35,0,0,0,0,0,62
"""

FAILURES_CSV = """Method,Name,Error,Occurrences
GET,E3 status,contract violation: Envelope has six typed fields,3
GET,E3 status,contract violation: No 5xx answer | Status is a known value,2
GET,E3 status,HTTP 503,4
"""
