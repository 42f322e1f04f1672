/* name.h: the one rule for sensor names.
 *
 * A sensor name is written into the configuration ([sensor.NAME]), the tokens file, the
 * X-Darkscope-Sensor header of every upload, the store, and, with `collector --archive`, a
 * directory name (ARCHIVE/NAME/...).  So it must be safe as one path component: 1 to
 * DS_SENSOR_NAME_MAX of [A-Za-z0-9._-], and not only dots ("." and ".." would put uploads
 * beside or outside the archive; POSIX.1-2017 section 3.282 "Portable Filename Character Set"
 * is the alphabet).  The config, `token new`, `--darknet NAME=CIDR`, `sensor --name` and the
 * collector all check names here.
 */
#ifndef DS_UTIL_NAME_H
#define DS_UTIL_NAME_H

#include "util/result.h"

#define DS_SENSOR_NAME_MAX 63   /* fits the char name[64] of ds_sensor_conf and ds_token_entry */
#define DS_SENSOR_NAME_RULE "1-63 of A-Z a-z 0-9 . _ - and not only dots"

/* 1 if name is a good sensor name. */
int ds_sensor_name_ok(const char *name);

/* DS_OK, or DS_EINVAL with "sensor name '..' is not allowed: names are 1-63 of A-Z a-z 0-9
 * . _ - and not only dots" (the name shown escaped and cut short if need be). */
ds_rc ds_sensor_name_check(const char *name, ds_err *err);

#endif
