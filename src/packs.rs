//! Which rule pack judges which file: one decision for `check` and the
//! language server alike.
//!
//! The policy, in order:
//!
//! 1. A pack the user chose (`check --rules`, the server's `rules` setting)
//!    judges every file; a catalogue's own `[catalogue].rules` is ignored.
//! 2. Otherwise a catalogue whose `[catalogue].rules` names another pack than
//!    the default's id is judged by that pack file: its path is relative to
//!    the catalogue's folder (`..` resolved lexically), and it is read through
//!    the guarded reader confined as the front end says (the checked paths,
//!    the workspace folders, or without any the catalogue's own folder).
//! 3. Otherwise (no `rules`, the default's id, or a file with no folder such
//!    as an unsaved buffer) the default pack: the user's, else the embedded one.
//!
//! A pack named by a catalogue that cannot be used is a [`Refused`], with one
//! message for both front ends; each renders it its way: `check` stops with
//! exit 2 (verdicts from another pack than the one asked for are not a
//! pass), the server shows it as `rule-pack-error` on the `rules` line and
//! judges the file by the default pack meanwhile (an editor keeps working
//! while the pack is fixed). Each pack file is read once per resolver (a
//! refusal too), so files naming one pack share one `Arc`.

use crate::catalogue::Field;
use crate::fsread::{self, Within};
use crate::rules::{PackError, RulePack};
use crate::text::Span;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Where a pack named by a catalogue must lie.
#[derive(Clone, Copy, Debug)]
pub enum Confine<'a> {
    /// Inside these canonical roots.
    Within(Within<'a>),
    /// Without roots: the catalogue's own folder and below (`scope` and
    /// `advice` for the message, as in [`Within`]).
    OwnFolder { scope: &'a str, advice: &'a str },
}

/// A pack named by a catalogue that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The `rules` value's span in the catalogue.
    pub span: Span,
    /// What went wrong, naming the `rules` value.
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Decides which pack judges each file; keeps the packs it read.
pub struct Resolver {
    default: Arc<RulePack>,
    /// The user chose the default: catalogues' own packs are ignored.
    chosen: bool,
    cache: HashMap<PathBuf, Result<Arc<RulePack>, String>>,
}

impl Resolver {
    /// A resolver whose default is `user` (the user chose it: it judges every
    /// file) or else the embedded pack.
    pub fn new(user: Option<Arc<RulePack>>) -> Self {
        Resolver::with_default(
            user.clone().unwrap_or_else(RulePack::embedded),
            user.is_some(),
        )
    }

    /// A resolver with this default; `chosen`: the user chose a pack (even
    /// one that failed to load), so catalogues' own packs are ignored.
    pub fn with_default(default: Arc<RulePack>, chosen: bool) -> Self {
        Resolver {
            default,
            chosen,
            cache: HashMap::new(),
        }
    }

    /// Loads the pack the user named (`--rules`, the `rules` setting): read
    /// anywhere, as the user asked for it.
    pub fn load_user(path: &Path) -> Result<Arc<RulePack>, PackError> {
        RulePack::load(path).map(Arc::new)
    }

    /// The pack of files that name none.
    pub fn default_pack(&self) -> &Arc<RulePack> {
        &self.default
    }

    /// The pack that judges the catalogue at `file` (None: a file with no
    /// folder) whose `[catalogue].rules` is `rules`.
    pub fn resolve(
        &mut self,
        file: Option<&Path>,
        rules: Option<&Field<String>>,
        confine: Confine<'_>,
    ) -> Result<Arc<RulePack>, Refused> {
        let Some((r, path)) = self.named(file, rules) else {
            return Ok(self.default.clone());
        };
        let entry = match self.cache.get(&path) {
            Some(e) => e.clone(),
            None => {
                let own;
                let within = match confine {
                    Confine::Within(w) => w,
                    Confine::OwnFolder { scope, advice } => {
                        let dir = file.and_then(Path::parent).unwrap_or(Path::new("."));
                        own = fsread::canonical_roots(&[dir]);
                        Within {
                            roots: &own,
                            scope,
                            advice,
                        }
                    }
                };
                let e = RulePack::load_within(&path, Some(within))
                    .map(Arc::new)
                    .map_err(|e| e.to_string());
                self.cache.insert(path, e.clone());
                e
            }
        };
        entry.map_err(|e| Refused {
            span: r.span,
            message: format!(
                "`[catalogue].rules = \"{}\"`: {e}",
                fsread::shown_str(&r.value)
            ),
        })
    }

    /// The pack already resolved for this file, without reading anything: a
    /// pack not read yet, or refused, is the default.
    pub fn resolved(&self, file: Option<&Path>, rules: Option<&Field<String>>) -> Arc<RulePack> {
        match self.named(file, rules) {
            Some((_, path)) => match self.cache.get(&path) {
                Some(Ok(p)) => p.clone(),
                _ => self.default.clone(),
            },
            None => self.default.clone(),
        }
    }

    /// The `rules` field and the path of the pack it names, when the file is
    /// judged by a pack of its own (rule 2 of the policy).
    fn named<'r>(
        &self,
        file: Option<&Path>,
        rules: Option<&'r Field<String>>,
    ) -> Option<(&'r Field<String>, PathBuf)> {
        let r = rules?;
        if self.chosen || r.value == self.default.id {
            return None;
        }
        let dir = file?.parent()?;
        Some((r, normalize(&dir.join(&r.value))))
    }
}

/// `.` and `..` resolved lexically (so `a/../p.toml` and `p.toml` are one pack).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: &str) -> Field<String> {
        Field {
            value: v.to_string(),
            span: Span::new(3, 7),
            key: Span::new(0, 2),
        }
    }

    const OWN: Confine<'static> = Confine::OwnFolder {
        scope: "the folder",
        advice: "move it",
    };

    #[test]
    fn the_users_pack_judges_every_file() {
        let user = RulePack::embedded();
        let mut r = Resolver::with_default(user.clone(), true);
        let p = r
            .resolve(
                Some(Path::new("/x/a.catalogue.toml")),
                Some(&field("missing.toml")),
                OWN,
            )
            .unwrap();
        assert!(Arc::ptr_eq(&p, &user));
    }

    #[test]
    fn the_default_id_and_folderless_files_take_the_default() {
        let mut r = Resolver::new(None);
        let id = r.default_pack().id.clone();
        for (file, rules) in [
            (Some(Path::new("/x/a.catalogue.toml")), Some(field(&id))),
            (Some(Path::new("/x/a.catalogue.toml")), None),
            (None, Some(field("p.toml"))),
        ] {
            let p = r.resolve(file, rules.as_ref(), OWN).unwrap();
            assert!(Arc::ptr_eq(&p, r.default_pack()));
        }
    }

    #[test]
    fn a_pack_that_cannot_be_read_is_refused_once_with_the_rules_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.catalogue.toml");
        let mut r = Resolver::new(None);
        let e = r
            .resolve(Some(&file), Some(&field("sub/../nope.toml")), OWN)
            .unwrap_err();
        assert_eq!(e.span, Span::new(3, 7));
        assert!(
            e.message
                .starts_with("`[catalogue].rules = \"sub/../nope.toml\"`: "),
            "{e}"
        );
        assert!(e.message.contains("nope.toml"), "{e}");
        // The refusal is kept: the same path is not read again, and
        // `resolved` falls back to the default.
        assert_eq!(r.cache.len(), 1);
        assert!(r.cache.contains_key(&dir.path().join("nope.toml")));
        assert!(Arc::ptr_eq(
            &r.resolved(Some(&file), Some(&field("nope.toml"))),
            r.default_pack()
        ));
    }

    #[test]
    fn a_catalogues_own_pack_is_read_once_and_shared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.toml"), crate::rules::EMBEDDED).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let a = dir.path().join("a.catalogue.toml");
        let b = dir.path().join("sub").join("b.catalogue.toml");
        let within = fsread::canonical_roots(&[dir.path()]);
        let confine = Confine::Within(Within {
            roots: &within,
            scope: "the root",
            advice: "move it",
        });
        let mut r = Resolver::new(None);
        let pa = r
            .resolve(Some(&a), Some(&field("p.toml")), confine)
            .unwrap();
        let pb = r
            .resolve(Some(&b), Some(&field("../p.toml")), confine)
            .unwrap();
        assert!(Arc::ptr_eq(&pa, &pb), "one read, one pack");
        assert!(!Arc::ptr_eq(&pa, r.default_pack()));
        assert!(Arc::ptr_eq(
            &r.resolved(Some(&b), Some(&field("../p.toml"))),
            &pa
        ));
        // Outside the confinement: refused, naming where it must lie.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("q.toml"), crate::rules::EMBEDDED).unwrap();
        let q = other.path().join("q.toml");
        let e = r
            .resolve(Some(&a), Some(&field(q.to_str().unwrap())), confine)
            .unwrap_err();
        assert!(e.message.contains("the root"), "{e}");
    }
}
