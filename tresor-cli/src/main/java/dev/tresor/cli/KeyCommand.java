package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "key", description = "The key hierarchy: an HSM KEK, a passphrase, KEK rotation and migration, status.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key init --pkcs11 --library /usr/lib/softhsm/libsofthsm2.so \\",
                "      --slot 1234 --key-label tresor-kek-1 --pin-file /etc/tresor/hsm.pin",
                "  tresor key passphrase --config tresor.yaml --new-passphrase-file kek.pass",
                "  tresor key status",
                "  tresor key rotate --kek",
                "  tresor key migrate --to hsm.yaml",
        })
final class KeyCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    KeyCommand(CliContext context) {
        super(context);
    }
}
