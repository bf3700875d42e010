// marsadm: the MARS administration tool. All logic is in marsadm_lib (cli.h).
#include <iostream>

#include "cli.h"

int main(int argc, char** argv) {
  return mars::cli::Run(argc, argv, std::cout, std::cerr);
}
