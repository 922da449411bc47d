// Lines in the shapes osquery has written (see ../shared/osquery-formats.md §2-4, 12, 17).
/** One line of each shape, for unit tests. */
export const LINES = {
  // >= 4.1.1, from osquery's own logger test
  event: '{"name":"test_query","hostIdentifier":"unknown_test_host","calendarTime":"no_time","unixTime":0,"epoch":0,"counter":0,"numerics":false,"columns":{"test_column":"test_value"},"action":"added"}',
  // 3.4.0 - 4.1.0
  eventLogNumerics: '{"name":"q","hostIdentifier":"h","calendarTime":"Mon Nov 25 09:11:40 2019 UTC","unixTime":1574673100,"epoch":0,"counter":2,"logNumericsAsNumbers":true,"columns":{"pid":1184,"size":""},"action":"removed"}',
  // 3.2 - 3.3: numbers, no numerics key
  event32: '{"name":"q","hostIdentifier":"h","calendarTime":"Mon Nov 25 09:11:40 2019 UTC","unixTime":1574673100,"epoch":0,"counter":2,"columns":{"a":"1"},"action":"added"}',
  // <= 3.1: every scalar a string, "/" escaped
  event31: '{"name":"pack_it-compliance_mounts","hostIdentifier":"192-168-0-4.rdsnet.ro","calendarTime":"Thu Dec 28 14:40:08 2017 UTC","unixTime":"1514472008","epoch":"0","counter":"1","decorations":{"host_uuid":"4AB2906D","username":"tsg"},"columns":{"device":"\\/dev\\/disk1s4","inodes":"9223372036854775807"},"action":"removed"}',
  // --decorations_top_level: decoration strings overwrite envelope fields
  topLevel: '{"name":"osqueryd","hostIdentifier":"h","calendarTime":"c","unixTime":"1795597900","epoch":0,"counter":1,"numerics":false,"hostname":"web-01","columns":{"a":"1"},"action":"added"}',
  batch: '{"diffResults":{"removed":[{"a":"1"}],"added":[{"a":"2"},{"a":"3"}]},"name":"q","hostIdentifier":"h","calendarTime":"c","unixTime":10,"epoch":0,"counter":4,"numerics":false,"decorations":{"d":"x"}}',
  batchEmpty: '{"diffResults":{"removed":[],"added":[]},"name":"q","hostIdentifier":"h","calendarTime":"c","unixTime":10,"epoch":0,"counter":0,"numerics":false}',
  batch31Empty: '{"diffResults":{"removed":"","added":[{"a":"2"}]},"name":"q","hostIdentifier":"h","calendarTime":"c","unixTime":"10","epoch":"0","counter":"3"}',
  snapshot: '{"snapshot":[{"a":"1"},{"a":"2"}],"action":"snapshot","name":"s","hostIdentifier":"h","calendarTime":"c","unixTime":10,"epoch":0,"counter":0,"numerics":false}',
  // from osquery's filesystem logger test
  snapshotEmpty: '{"snapshot":[],"action":"snapshot","name":"test","hostIdentifier":"test","calendarTime":"test","unixTime":0,"epoch":0,"counter":0,"numerics":false}',
  snapshot31Empty: '{"snapshot":"","action":"snapshot","name":"s","hostIdentifier":"h","calendarTime":"c","unixTime":"10","epoch":"0","counter":"0"}',
  // --logger_snapshot_event_type, from osquery PR #3838
  snapshotRow: '{"name":"3groups","hostIdentifier":"maverics","calendarTime":"Mon Oct 16 05:50:00 2017 UTC","unixTime":"1508133000","epoch":"0","counter":"0","columns":{"gid":"0","gid_signed":"0","groupname":"root"},"action":"snapshot"}',
  // JSON status record, <= 5.9 (strings) and >= 5.10 (numbers)
  status59: '{"hostIdentifier":"878a","calendarTime":"Wed Mar  2 22:02:54 2022 UTC","unixTime":"1646258574","severity":"0","filename":"glog_logger.cpp","line":"49","message":"Could not get RPM header flag.","version":"4.9.0","decorations":{"host_uuid":"u"}}',
  status510: '{"hostIdentifier":"878a","calendarTime":"Wed Mar  2 22:02:54 2022 UTC","unixTime":1646258574,"severity":1,"filename":"scheduler.cpp","line":102,"message":"x","version":"5.10.2"}',
};

