using FlowOrleans.Cli.CommandLine;
using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.Cli.Cluster;

/// <summary>
/// The file holding flowctl's owner capability: the secret the pins and listening names the cluster verbs make belong
/// to (<see cref="FlowOrleans.Client.FlowClient.Owner"/>). One run pins and a later run unpins, so the capability must
/// outlive the process; it is made on first use, readable by its user only, and never printed.
/// </summary>
internal static class OwnerFile
{
    /// <summary><c>$XDG_CONFIG_HOME/flowctl/owner</c>, or <c>~/.config/flowctl/owner</c>.</summary>
    public static string DefaultPath => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify), "flowctl", "owner");

    /// <summary>
    /// The capability in <paramref name="path"/>, made there if the file does not exist. Two runs making it at once agree:
    /// the file appears whole or not at all, and the one that loses the race reads the winner's.
    /// </summary>
    public static Capability LoadOrCreate(string option, string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                Create(path);
            }

            var text = File.ReadAllText(path).Trim();
            return Capability.TryParse(text, out var owner)
                ? owner
                : throw new CliFailure(ExitCode.BadInput, $"{option} '{path}' does not hold an owner capability; expected the 32 hex digits flowctl wrote there");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailure(ExitCode.BadInput, $"{option} '{path}' could not be read or made ({e.Message}); expected a file this user can read and write", e);
        }
    }

    private static void Create(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".owner-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(temporary, options))
        {
            writer.WriteLine(Capability.NewRandom().ToHex());
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another run made it first: its capability is the one.
            File.Delete(temporary);
        }
    }
}
