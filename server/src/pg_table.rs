//! What the `project_files` table of a PostgreSQL database looks like: read
//! from `information_schema.columns` at start, so the server picks the
//! codec of the shape it finds and refuses to start, with a clear reason,
//! when it cannot write that table.

use std::collections::BTreeMap;

use uuid::Uuid;
use velocity_sync::rows::{Row, RowShape};

/// Why the server cannot serve this database's `project_files`.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The database cannot be reached or read.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// No `project_files` table in the current schema.
    #[error(
        "no project_files table in schema {schema:?}: create one (sql/pg_project_files_rich.sql or sql/pg_project_files_simple.sql)"
    )]
    NoTable {
        /// The schema searched (`current_schema()`).
        schema: String,
    },
    /// The columns match neither platform shape, or both.
    #[error("project_files has neither platform shape: {reason}")]
    UnknownShape {
        /// What the codec said.
        reason: String,
    },
    /// A column the codec of the detected shape needs is missing.
    #[error("project_files ({shape} shape) lacks column {column:?}, which the server writes")]
    MissingColumn {
        /// The detected shape.
        shape: RowShape,
        /// The column.
        column: &'static str,
    },
    /// A NOT NULL column without a default that the server cannot fill.
    #[error("project_files.{column} is NOT NULL without a default and {hint}")]
    MissingValue {
        /// The column.
        column: String,
        /// What would supply it.
        hint: &'static str,
    },
}

impl TableError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "table.postgres",
            Self::NoTable { .. } => "table.missing",
            Self::UnknownShape { .. } => "table.unknown_shape",
            Self::MissingColumn { .. } => "table.missing_column",
            Self::MissingValue { .. } => "table.missing_value",
        }
    }
}

/// One column as `information_schema.columns` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its type's name (`udt_name`: `uuid`, `int8`, `timestamptz`, `jsonb`,
    /// `vector`, …), used to cast text parameters.
    pub udt: String,
    /// Whether it may hold NULL.
    pub nullable: bool,
    /// Whether it has a default.
    pub has_default: bool,
}

/// The `project_files` table this server writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The platform shape, picking the codec.
    pub shape: RowShape,
    /// Every column, by name.
    pub columns: BTreeMap<String, Column>,
}

/// Columns of a shape's codec that a table may lack: the server then
/// simply does not write them.
const OPTIONAL: &[&str] = &[
    "created_at",
    "is_current_version",
    "last_modified_by",
    "parent_version_id",
];

impl Table {
    /// Reads the columns of `project_files` in the current schema.
    ///
    /// # Errors
    /// [`TableError`] when the database cannot be read or the table is
    /// missing.
    pub fn read(client: &mut postgres::Client) -> Result<Self, TableError> {
        let schema: String = client.query_one("SELECT current_schema()", &[])?.get(0);
        let rows = client.query(
            "SELECT column_name::text, udt_name::text, is_nullable = 'YES', column_default IS NOT NULL
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'project_files'",
            &[],
        )?;
        if rows.is_empty() {
            return Err(TableError::NoTable { schema });
        }
        let columns: BTreeMap<String, Column> = rows
            .iter()
            .map(|row| {
                (
                    row.get(0),
                    Column {
                        udt: row.get(1),
                        nullable: row.get(2),
                        has_default: row.get(3),
                    },
                )
            })
            .collect();
        Self::from_columns(columns)
    }

    /// The table with `columns`: detects the shape and checks the codec's
    /// columns are there.
    ///
    /// # Errors
    /// [`TableError::UnknownShape`] or [`TableError::MissingColumn`].
    pub fn from_columns(columns: BTreeMap<String, Column>) -> Result<Self, TableError> {
        let probe: Row = columns
            .keys()
            .map(|name| (name.clone(), serde_json::Value::Null))
            .collect();
        let shape = match RowShape::detect(&probe) {
            Ok(RowShape::Editor) => {
                return Err(TableError::UnknownShape {
                    reason: "it has the editor's `path` but no `file_path`".to_owned(),
                });
            }
            Ok(shape) => shape,
            Err(error) => {
                return Err(TableError::UnknownShape {
                    reason: error.to_string(),
                });
            }
        };
        if let Some(column) = shape
            .columns()
            .iter()
            .find(|c| !OPTIONAL.contains(c) && !columns.contains_key(**c))
        {
            return Err(TableError::MissingColumn { shape, column });
        }
        Ok(Self { shape, columns })
    }

    /// Checks the server can fill every NOT NULL column without a default
    /// when it inserts a row, given the configured `created_by`.
    ///
    /// # Errors
    /// [`TableError::MissingValue`] naming the first column it cannot fill.
    pub fn check_insertable(&self, created_by: Option<Uuid>) -> Result<(), TableError> {
        for (name, column) in &self.columns {
            if column.nullable || column.has_default {
                continue;
            }
            if name == "created_by" {
                if created_by.is_none() {
                    return Err(TableError::MissingValue {
                        column: name.clone(),
                        hint: "no service user id is configured (--created-by or VELOCITY_SYNC_CREATED_BY)",
                    });
                }
                continue;
            }
            if !self.shape.columns().contains(&name.as_str()) {
                return Err(TableError::MissingValue {
                    column: name.clone(),
                    hint: "the server does not write it",
                });
            }
        }
        Ok(())
    }

    /// The SQL type to cast a text parameter to for `column` (`text` for
    /// an unknown one).
    pub fn cast(&self, column: &str) -> &str {
        self.columns.get(column).map_or("text", |c| c.udt.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn columns(names: &[(&str, bool, bool)]) -> BTreeMap<String, Column> {
        names
            .iter()
            .map(|(name, nullable, has_default)| {
                (
                    (*name).to_owned(),
                    Column {
                        udt: "text".to_owned(),
                        nullable: *nullable,
                        has_default: *has_default,
                    },
                )
            })
            .collect()
    }

    const SIMPLE: &[(&str, bool, bool)] = &[
        ("id", false, true),
        ("project_id", false, false),
        ("file_path", false, false),
        ("content", true, false),
        ("file_type", true, false),
        ("size_bytes", true, false),
        ("version", true, true),
        ("parent_version_id", true, false),
        ("checksum", true, false),
        ("metadata", true, false),
        ("created_at", true, true),
        ("updated_at", true, true),
    ];

    #[test]
    fn detects_the_simple_shape_and_inserts_without_created_by() {
        let table = Table::from_columns(columns(SIMPLE)).unwrap();
        assert_eq!(table.shape, RowShape::Simple);
        table.check_insertable(None).unwrap();
    }

    #[test]
    fn a_missing_codec_column_is_named() {
        let without: Vec<_> = SIMPLE
            .iter()
            .copied()
            .filter(|c| c.0 != "checksum")
            .collect();
        let error = Table::from_columns(columns(&without)).unwrap_err();
        assert_eq!(error.code(), "table.missing_column");
        assert!(error.to_string().contains("\"checksum\""), "{error}");
    }

    #[test]
    fn rich_needs_a_created_by_and_foreign_not_null_columns_are_refused() {
        let mut rich = columns(SIMPLE);
        rich.remove("size_bytes");
        rich.remove("checksum");
        rich.remove("metadata");
        for (name, nullable) in [
            ("file_name", false),
            ("file_size", true),
            ("content_hash", true),
            ("encoding", true),
            ("directory_path", true),
            ("is_directory", true),
            ("is_binary", true),
            ("created_by", false),
        ] {
            rich.extend(columns(&[(name, nullable, false)]));
        }
        let table = Table::from_columns(rich.clone()).unwrap();
        assert_eq!(table.shape, RowShape::Rich);
        let error = table.check_insertable(None).unwrap_err();
        assert_eq!(error.code(), "table.missing_value");
        assert!(error.to_string().contains("created_by"), "{error}");
        table.check_insertable(Some(Uuid::from_u128(7))).unwrap();
        rich.extend(columns(&[("tenant", false, false)]));
        let error = Table::from_columns(rich)
            .unwrap()
            .check_insertable(Some(Uuid::from_u128(7)))
            .unwrap_err();
        assert!(error.to_string().contains("tenant"), "{error}");
    }

    #[test]
    fn the_editor_shape_is_refused() {
        let error = Table::from_columns(columns(&[
            ("path", false, false),
            ("type", true, false),
            ("content", true, false),
        ]))
        .unwrap_err();
        assert_eq!(error.code(), "table.unknown_shape");
    }
}
