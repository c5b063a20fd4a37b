"""volunteer programme: sealed identities, invitations, accepted agreements

users.identity_sealed holds a volunteer's real name and phone as a Fernet token (accounts/escrow.py,
key from VOLUNTEER_IDENTITY_KEYS or instance/volunteer_identity_keys). Existing volunteers are sealed
here: their plain display_name (the real name until now) and phone move into the token, and
display_name becomes the pseudonym. The audit chain keeps what it recorded before (it is append-only
and its hashes cover the old values); docs/volunteers.md says what that means and what to do.

Revision ID: a1c0e5d27b94
Revises: d38023a84c8a
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c0e5d27b94'
down_revision = 'd38023a84c8a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_sealed', sa.Text(), nullable=True))

    op.create_table('volunteer_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('used_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_volunteer_invitations_created_by_id_users')),
    sa.ForeignKeyConstraint(['used_by_id'], ['users.id'], name=op.f('fk_volunteer_invitations_used_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_invitations')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_volunteer_invitations_code_hash')),
    sa.UniqueConstraint('used_by_id', name=op.f('uq_volunteer_invitations_used_by_id'))
    )
    op.create_table('volunteer_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_volunteer_agreements_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_agreements'))
    )
    with op.batch_alter_table('volunteer_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_agreements_user_id'), ['user_id'], unique=False)

    _seal_existing_volunteers()


def _seal_existing_volunteers():
    """Seal every volunteer's plain real name and phone with the app's current key."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, display_name, pseudonym, phone FROM users "
                                "WHERE role = 'volunteer' AND identity_sealed IS NULL")).all()
    if not rows:
        return
    from inspect_app.accounts.escrow import Identity, seal  # needs the app (flask db upgrade) for the key
    for row in rows:
        bind.execute(sa.text("UPDATE users SET identity_sealed = :sealed, display_name = :shown, phone = NULL "
                             "WHERE id = :id"),
                     {"sealed": seal(Identity(real_name=row.display_name, phone=row.phone)),
                      "shown": row.pseudonym or f"志愿者{row.id}", "id": row.id})


def downgrade():
    # The sealed identities go back to the plain columns they came from (the key must still open them).
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, identity_sealed FROM users WHERE identity_sealed IS NOT NULL")).all()
    if rows:
        from inspect_app.accounts.escrow import unseal
        for row in rows:
            identity = unseal(row.identity_sealed)
            bind.execute(sa.text("UPDATE users SET display_name = :name, phone = :phone WHERE id = :id"),
                         {"name": identity.real_name[:100], "phone": identity.phone, "id": row.id})
    with op.batch_alter_table('volunteer_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_agreements_user_id'))
    op.drop_table('volunteer_agreements')
    op.drop_table('volunteer_invitations')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('identity_sealed')
