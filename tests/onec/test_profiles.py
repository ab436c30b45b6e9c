"""Profiles and mapping files."""

from __future__ import annotations

from pathlib import Path

import pytest

from erp_bridge.onec.profiles import BP30, UT11, load_profile
from erp_bridge.onec.reader import client_fields


def test_builtin_profiles() -> None:
    assert load_profile("ut11") is UT11 and load_profile("bp30") is BP30
    assert BP30.partners is None and BP30.returns == "Document_ВозвратТоваровОтПокупателя"


def test_mapping_file_overrides_a_base_profile(tmp_path: Path) -> None:
    path = tmp_path / "ours.toml"
    path.write_text(
        'base = "bp30"\nmanager_field = "ОсновнойМенеджер_Key"\namount_field = "СуммаСНДС"\n', "utf-8"
    )
    profile = load_profile(str(path))
    assert profile.name == "ours" and profile.manager_field == "ОсновнойМенеджер_Key"
    assert profile.amount_field == "СуммаСНДС" and profile.partners is None


def test_bp30_reads_the_responsible_user_and_a_mapping_file_can_turn_it_off(tmp_path: Path) -> None:
    assert BP30.manager_field == "Ответственный_Key"
    path = tmp_path / "old-bp.toml"
    path.write_text('base = "bp30"\nmanager_field = ""\n', "utf-8")
    old = load_profile(str(path))
    assert "Ответственный_Key" not in client_fields(old) and "Ответственный_Key" in client_fields(BP30)


def test_mapping_file_with_unknown_field_or_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('base = "ut11"\nphones = "x"\n', "utf-8")
    with pytest.raises(ValueError, match="unknown fields phones"):
        load_profile(str(path))
    with pytest.raises(ValueError, match="unknown 1C profile"):
        load_profile("ut12")
